"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import zstandard

from agentreplay.cassette.frames import FrameReader


def cassette_bytes(path: Path) -> bytes:
    """The file's raw bytes followed by the decompressed content of every frame, chained
    ones (compressed against the frames before them) and the index included: all a
    secret could hide in."""
    raw = path.read_bytes()
    parts = [raw]
    with path.open("rb") as file:
        frames = FrameReader(file, str(path))
        _, _, offset = frames.read_header()
        while True:
            kind, end, content = frames.content_at(offset)
            if kind in ("end", "footer"):
                break
            if kind == "index":
                parts.append(zstandard.ZstdDecompressor().decompress(raw[offset + 12 : end]))
            elif content is not None:
                parts.append(content)
            offset = end
    return b"".join(parts)
