"""Chained frames (formats 3.x and 4.x): read, no longer written.

Before streams (stream.py, format 5), a recording compressed each small frame
with the last `PREFIX` bytes of the content before it (the previous frames'
msgpack, in file order) as a raw-content dictionary. On disk a chained frame
is a link frame, then the data frame::

    link := skippable frame 0x184D2A52 of 4 bytes: u32 distance back to the keyframe

A keyframe is a data frame without a link: it needs nothing before it. The
dictionary of a chained frame is the last `PREFIX` bytes (or all, if fewer)
of the content of the frames from its keyframe to it. Writers started a new
chain at least every `KEY_EVERY` bytes of content, so reading one frame at
random decompresses at most that much before it. `compress` and `encode_link`
remain to build such files in tests.
"""

from __future__ import annotations

import struct
from typing import Final

import zstandard

__all__ = [
    "KEY_EVERY",
    "LINK_MAGIC",
    "LINK_SIZE",
    "PREFIX",
    "History",
    "compress",
    "encode_link",
]

LINK_MAGIC: Final = 0x184D2A52
LINK_SIZE: Final = 8 + 4
PREFIX: Final = 64 * 1024
"""Bytes of earlier content a chained frame is compressed against, at most."""
KEY_EVERY: Final = 1024 * 1024
"""Content bytes after which a writer started a new chain with a keyframe."""

_plain = zstandard.ZstdCompressor(level=3, write_checksum=True, write_content_size=True)


def compress(content: bytes, prefix: bytes = b"") -> bytes:
    """One zstd frame of ``content``, compressed against ``prefix`` if given."""
    if not prefix:
        return _plain.compress(content)
    dictionary = zstandard.ZstdCompressionDict(prefix, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    compressor = zstandard.ZstdCompressor(
        level=3, dict_data=dictionary, write_checksum=True, write_content_size=True
    )
    return compressor.compress(content)


def decompressor(prefix: bytes) -> zstandard.ZstdDecompressor:
    dictionary = zstandard.ZstdCompressionDict(prefix, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdDecompressor(dict_data=dictionary)


def encode_link(distance: int) -> bytes:
    return struct.pack("<III", LINK_MAGIC, 4, distance)


def decode_link(head: bytes) -> int | None:
    """The distance back to the keyframe named by a link frame's bytes, or None if they
    are not a link frame."""
    if len(head) < LINK_SIZE:
        return None
    magic, size, distance = struct.unpack_from("<III", head)
    if magic != LINK_MAGIC or size != 4 or distance <= 0:
        return None
    return distance  # type: ignore[no-any-return]


class History:
    """The content of the frames read or written last, in order: a chain's dictionary."""

    __slots__ = ("_window", "end", "key")

    def __init__(self) -> None:
        self._window = bytearray()
        self.end = -1
        """Where the last frame whose content is here ends in the file (-1: nowhere)."""
        self.key = -1
        """Where the keyframe of the chain here starts (-1: nowhere)."""

    def __len__(self) -> int:
        return len(self._window)

    def reset(self) -> None:
        self._window = bytearray()
        self.end = self.key = -1

    def add(self, content: bytes, end: int, keyframe: bool, start: int = -1) -> None:
        window = self._window
        if keyframe:
            window.clear()
            self.key = start
        window += content
        if len(window) > 4 * PREFIX:  # trimmed now and then, not on every frame
            del window[: len(window) - PREFIX]
        self.end = end

    def tail(self, size: int) -> bytes:
        """The last ``size`` bytes of content (all of it if there is less)."""
        return bytes(self._window[-size:]) if size > 0 else b""
