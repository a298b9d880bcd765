"""Where the bytes of a cassette go, and what two format changes would save.

    python benchmarks/bench_size_parts.py [--workload conversation|mixed]

Writes bench_cassette.py's workload at once and at the recorded pace, reads
each data frame back, and compresses each part on its own as the writer would
(one zstd stream, level 3, a block flush after each frame):

- ``blobs``: the blobs frames (each blob an id, its BLAKE2b-128 digest, its bytes);
  ``digests`` is the digests alone (random bytes: they do not compress);
- ``events``: the events frames.

Two changes are then measured on the same frames, without changing the format:
blob records without their digest (a stream's pieces carry a CRC-32 already),
and events whose time and sequence number are stored as the difference from
the event before them in the frame (the time) or from the same task's last one
(the sequence number). Sizes only: no target, no exit status.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_cassette as workloads
import msgpack
import zstandard
from _common import code_version

from agentreplay.cassette.frames import FRAME_BLOBS, FRAME_EVENTS, FrameReader


def _deltas(items: list[list[Any]]) -> list[list[Any]]:
    """Each event's time as the difference from the event before it, and its sequence
    number as the difference from its task's last one, less one."""
    previous_at = 0
    last_seq: dict[str, int] = {}
    out = []
    for item in items:
        item = list(item)
        task, seq, at = item[1], item[2], item[3]
        item[2] = seq - last_seq.get(task, seq - 1) - 1
        item[3] = at - previous_at
        previous_at, last_seq[task] = at, seq
        out.append(item)
    return out


def parts_of(path: Path) -> dict[str, list[bytes]]:
    parts: dict[str, list[bytes]] = {
        "blobs": [],
        "blobs without digests": [],
        "digests": [],
        "events": [],
        "events with deltas": [],
    }
    with path.open("rb") as file:
        reader = FrameReader(file, str(path))
        reader.read_header()
        footer = reader.read_footer()
        assert footer is not None
        index = reader.read_index(footer)
        reader.add_streams(index.get("streams", []))
        for offset, kind, _ in index["frames"]:
            _, _, content = reader.content_at(offset)
            assert content is not None
            value = msgpack.unpackb(content, strict_map_key=False)
            if kind == FRAME_BLOBS:
                parts["blobs"].append(content)
                records = [[blob_id, data] for blob_id, _, data in value[1]]
                parts["blobs without digests"].append(msgpack.packb([kind, records]))
                parts["digests"].append(b"".join(digest for _, digest, _ in value[1]))
            elif kind == FRAME_EVENTS:
                parts["events"].append(content)
                changed = [kind, _deltas(value[1]), value[2]]
                parts["events with deltas"].append(msgpack.packb(changed))
    return parts


def streamed_size(frames: list[bytes]) -> int:
    """The frames compressed as the writer does: one stream, a block flush after each."""
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    size = 0
    for frame in frames:
        size += len(compressor.compress(frame))
        size += len(compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
    return size + len(compressor.flush())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=["conversation", "mixed"], default="conversation")
    args = parser.parse_args()
    make: Callable[[], Any] = getattr(workloads, f"{args.workload}_workload")
    events, exchanges = make()
    vcr = len(workloads.to_vcr_yaml(exchanges))
    print(f"{args.workload}: {len(events)} events; vcrpy YAML {vcr:,} B; {code_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in (("at once", workloads.write_sync), ("paced", workloads.write_paced)):
            path = Path(tmp) / f"{name}.cassette"
            write(path, events)
            size = path.stat().st_size
            parts = parts_of(path)
            sizes = {
                part: sum(map(len, frames)) if part == "digests" else streamed_size(frames)
                for part, frames in parts.items()
            }
            saved = (sizes["blobs"] - sizes["blobs without digests"]) + (
                sizes["events"] - sizes["events with deltas"]
            )
            print(f"\n  written {name}: {size:,} B, {vcr / size:.1f}x smaller than vcrpy")
            for part, frames in parts.items():
                raw = sum(map(len, frames))
                print(f"    {part:24s} {raw:>11,} B raw {sizes[part]:>9,} B compressed")
            print(
                f"    both changes: about {saved:,} B less, {size - saved:,} B, "
                f"{vcr / (size - saved):.1f}x smaller than vcrpy"
            )


if __name__ == "__main__":
    main()
