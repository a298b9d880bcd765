"""Where the bytes of a cassette go.

    python benchmarks/bench_size_parts.py [--workload conversation|mixed]

Writes bench_cassette.py's workload at once and at the recorded pace, reads
each data frame back, and compresses the blobs frames and the events frames
each on their own as one stream would hold them (zstd level 3, a block flush
after each frame), and shows the index's size. The file's frames are not
compressed exactly so (written at once, each is a zstd frame of its own; at
the recorded pace, blobs and events share streams), so the parts do not add
up to the file: they show what each costs. Sizes only: no target, no exit status.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_cassette as workloads
import zstandard
from _common import code_version

from agentreplay.cassette.frames import FRAME_BLOBS, FRAME_EVENTS, FrameReader


def parts_of(path: Path) -> tuple[dict[str, list[bytes]], int]:
    """The content of the blobs and of the events frames; the size of the index, footer
    included."""
    parts: dict[str, list[bytes]] = {"blobs": [], "events": []}
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
            if kind == FRAME_BLOBS:
                parts["blobs"].append(content)
            elif kind == FRAME_EVENTS:
                parts["events"].append(content)
    return parts, path.stat().st_size - footer


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
            print(f"\n  written {name}: {size:,} B, {vcr / size:.1f}x smaller than vcrpy")
            parts, index = parts_of(path)
            for part, frames in parts.items():
                raw = sum(map(len, frames))
                print(f"    {part:8s} {raw:>11,} B raw {streamed_size(frames):>9,} B compressed")
            print(f"    index    {index:>27,} B")


if __name__ == "__main__":
    main()
