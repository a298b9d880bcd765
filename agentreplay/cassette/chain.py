"""Chained frames: paced writing that compresses like batch writing (format 2).

A recording flushes what it has every ~100 ms, so at a real agent's pace its
frames are small, and a zstd frame that starts from an empty window
compresses a few hundred bytes badly. A chained frame is compressed with the
last `PREFIX` bytes of content before it (the previous frames' msgpack, in
file order) as a raw-content dictionary, so it compresses as if the stream
had never been cut, and it is still a whole zstd frame with its checksum:
a file cut anywhere keeps every complete frame.

On disk a chained frame is a link frame, then the data frame::

    link := skippable frame 0x184D2A52 of 4 bytes: u32 distance back to the keyframe

A keyframe is a data frame without a link: it needs nothing before it. The
dictionary of a chained frame is the last `PREFIX` bytes (or all, if fewer)
of the content of the frames from its keyframe to it. The writer starts a new
chain at least every `KEY_EVERY` bytes of content, so reading one frame at
random decompresses at most that much before it.
"""

from __future__ import annotations

import struct
from typing import Final

import zstandard

__all__ = [
    "CHAIN_BELOW",
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
"""Content bytes after which the writer starts a new chain with a keyframe."""
CHAIN_BELOW: Final = 16 * 1024
"""The writer chains frames of less content than this; a larger one compresses well on
its own, and loading a dictionary for it would cost more than it saves."""

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
