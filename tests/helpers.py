"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import zstandard


def cassette_bytes(path: Path) -> bytes:
    """The file's raw bytes followed by every frame decompressed: all a secret could hide in."""
    raw = path.read_bytes()
    with path.open("rb") as file:
        reader = zstandard.ZstdDecompressor().stream_reader(file, read_across_frames=True)
        return raw + reader.read()
