"""Streams: paced writing that compresses like batch writing (format 5).

A recording flushes what it has every ~100 ms, so at a real agent's pace its
frames hold a few events each. Compressed one zstd frame each, every frame
pays a header, a checksum and, above all, its own entropy tables. A stream
is one zstd frame that stays open across flushes: each data frame's content
goes in as a *record*, followed by a block flush, so every byte written is
decodable as soon as it is on disk, and later blocks reuse the earlier ones'
window and tables. On disk::

    stream := marker  zstd frame header  piece+  [end]
    marker := skippable frame 0x184D2A53 of 0 bytes
    piece  := zstd blocks whose content is one record: u32 length, u32 crc32, content
    end    := the zstd frame's last (empty) block and its 4-byte checksum

A piece ends on a block boundary, so a file cut anywhere keeps every complete
piece, and each record carries its own crc32, so damage is found piece by
piece (the zstd checksum covers a stream only once it is ended). A piece is
named by its offset (a stream's first piece by its marker's); reading one at
random decompresses its stream from the start, at most `STREAM_CONTENT`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Final

import zstandard

from agentreplay.errors import CassetteError

__all__ = [
    "STREAM_CONTENT",
    "STREAM_EVERY",
    "STREAM_MAGIC",
    "StreamCompressor",
    "StreamReader",
]

STREAM_MAGIC: Final = 0x184D2A53
MARKER: Final = struct.pack("<II", STREAM_MAGIC, 0)
RECORD: Final = struct.Struct("<II")
STREAM_EVERY: Final = 1024 * 1024
"""Content bytes after which the writer ends a stream and starts the next."""
STREAM_CONTENT: Final = 2 * STREAM_EVERY
"""Record bytes a reader lets one stream hold."""
MAX_WINDOW: Final = 8 * 1024 * 1024
FAST_LEVEL: Final = 3
DENSE_LEVEL: Final = 6
BUSY_RATE: Final = 1_000_000
"""Content bytes per second of the run above which streams are compressed at `FAST_LEVEL`."""
_MAX_BLOCK: Final = 128 * 1024
_ZSTD_MAGIC: Final = 0xFD2FB528
_END_BLOCK: Final = b"\x01\x00\x00"
"""A last block, raw and empty: what ending a stream after a block flush writes."""


class StreamCompressor:
    """The writer's side of one stream: `open`, then `piece` per data frame, then `end`.

    A stream whose content comes slowly is compressed at `DENSE_LEVEL`: lazy matching
    finds the repeats of small pieces that `FAST_LEVEL` misses (a paced conversation
    comes out 10% smaller) for three times the CPU, which at a real agent's pace is a
    few milliseconds a minute. Once a stream's content came faster than `BUSY_RATE`,
    or the writer has a backlog, the next one is compressed at `FAST_LEVEL`."""

    __slots__ = ("_busy", "_dense", "_fast", "_open", "_opened_at", "content")

    def __init__(self) -> None:
        self._fast = _compressor(FAST_LEVEL)
        self._dense = _compressor(DENSE_LEVEL)
        self._open: zstandard.ZstdCompressionObj | None = None
        self._opened_at = 0
        self._busy = False
        self.content = 0
        """Content bytes in the open stream (0 when none is open)."""

    @property
    def is_open(self) -> bool:
        return self._open is not None

    def open(self, at: int, *, backlog: bool = False) -> bytes:
        """The marker that starts a stream; the zstd frame header comes with the first
        piece. ``at`` is the run's time (ns) of the content's events; ``backlog`` says
        the writer is behind."""
        compressor = self._fast if self._busy or backlog else self._dense
        self._open = compressor.compressobj()
        self._opened_at = at
        self.content = 0
        return MARKER

    def piece(self, content: bytes) -> bytes:
        """The bytes of one record holding ``content``, ending on a block boundary."""
        stream = self._open
        assert stream is not None, "piece() outside a stream"
        self.content += len(content)
        head = RECORD.pack(len(content), zlib.crc32(content))
        return (
            stream.compress(head)
            + stream.compress(content)
            + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        )

    def end(self, at: int) -> bytes:
        """The stream's last block and checksum; nothing if no stream is open. ``at`` is
        the run's time (ns) of the last events written."""
        stream, self._open = self._open, None
        if stream is None:
            return b""
        elapsed = max(at - self._opened_at, 1)
        self._busy = self.content * 1_000_000_000 > BUSY_RATE * elapsed
        self.content = 0
        return stream.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)


def _compressor(level: int) -> zstandard.ZstdCompressor:
    # A stream holds at most STREAM_EVERY bytes: a window sized for that, and level 3's
    # hash tables at either level (level 6's own take 2 MB more per writer and make
    # cassettes 0.3% smaller).
    params = zstandard.ZstdCompressionParameters.from_level(
        level, source_size=STREAM_EVERY, hash_log=17, chain_log=16, write_checksum=1
    )
    return zstandard.ZstdCompressor(compression_params=params)


class StreamReader:
    """Reads the pieces of one stream in order, from its marker on.

    ``read_at(offset, size)`` returns the file's bytes; ``limit`` is the most one
    record may hold. Anything malformed, damaged or cut short raises `CassetteError`
    naming the offset of the piece it was found in.
    """

    __slots__ = (
        "_bad_end",
        "_broken",
        "_decompressor",
        "_error",
        "_read_at",
        "content",
        "end",
        "finished",
        "start",
    )

    def __init__(
        self,
        start: int,
        read_at: Callable[[int, int], bytes],
        error: Callable[[str, int], CassetteError],
    ) -> None:
        self.start = start
        self._read_at = read_at
        self._error = error
        self.content = 0
        self.finished = False
        self._bad_end: CassetteError | None = None
        self._broken: CassetteError | None = None
        self._decompressor = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW).decompressobj()
        head = read_at(start, 8 + 18)
        if len(head) < 8 + 6:
            raise error("file ends inside a stream's header (truncated)", start)
        if struct.unpack_from("<II", head) != (STREAM_MAGIC, 0):
            raise error("malformed stream marker", start)
        if struct.unpack_from("<I", head, 8)[0] != _ZSTD_MAGIC:
            raise error("a stream marker not followed by a zstd frame", start)
        descriptor = head[12]
        if descriptor & 0x08 or descriptor & 0x03 or not descriptor & 0x04:
            raise error(
                "a stream's zstd frame must have a checksum, no dictionary and no reserved bit",
                start,
            )
        single_segment = (descriptor >> 5) & 1
        fcs_flag = descriptor >> 6
        fcs_size = (1, 2, 4, 8)[fcs_flag] if (fcs_flag or single_segment) else 0
        size = 5 + (0 if single_segment else 1) + fcs_size
        if len(head) < 8 + size:
            raise error("file ends inside a stream's header (truncated)", start)
        self._feed(head[8 : 8 + size], start)
        self.end = start + 8 + size
        """Where the next piece starts: the pieces before it have been read."""

    def _feed(self, data: bytes, offset: int) -> bytes:
        try:
            return self._decompressor.decompress(data)
        except zstandard.ZstdError as exc:
            raise self._error(f"stream piece is damaged: {exc}", offset) from exc

    def piece(self, limit: int) -> bytes:
        """The content of the record at `end`; moves `end` past it (and past the stream's
        end, if that follows). A piece found damaged is so for every later read too: the
        decompressor cannot go on past it."""
        if self._broken is not None:
            raise self._broken
        try:
            return self._piece(limit)
        except CassetteError as exc:
            self._broken = exc
            raise

    def _piece(self, limit: int) -> bytes:
        offset = pos = self.end
        if self.finished:
            raise self._error("the stream ended before this offset", offset)
        if self._bad_end is not None:
            raise self._bad_end
        out = bytearray()
        want = -1  # bytes of the record, once its head is read
        while True:
            block = self._block(pos, offset)
            pos += len(block)
            out += self._feed(block, offset)
            last = block[0] & 1
            if want < 0 and len(out) >= RECORD.size:
                length, crc = RECORD.unpack_from(out)
                if length > limit:
                    raise self._error(
                        f"stream record of {length:,} bytes, over the limit ({limit:,} "
                        f"for this file)",
                        offset,
                    )
                want = RECORD.size + length
            if self.content + len(out) > STREAM_CONTENT:
                raise self._error("stream holds more than a writer puts in one", offset)
            if last:  # only the stream's end is: met here, it was cut or misplaced
                if out:
                    raise self._error("a stream's last block holds part of a record", offset)
                self._finish(pos)
                raise self._error("a stream's end where a piece should start", offset)
            if want >= 0 and len(out) >= want:
                break
        if len(out) != want:
            raise self._error("a stream piece does not end where its record does", offset)
        content = bytes(out[RECORD.size :])
        if zlib.crc32(content) != crc:
            raise self._error("stream piece checksum mismatch", offset)
        self.content += want
        self.end = pos
        self._end_if_here()
        return content

    def _end_if_here(self) -> None:
        """Step over the stream's end when it follows the piece just read. An end that
        fails the stream's checksum is kept for the next read, at the end's own offset:
        the piece before it is sound (its record's crc32 says so)."""
        pos = self.end
        tail = self._read_at(pos, 7)
        if len(tail) == 7 and tail[:3] == _END_BLOCK:
            try:
                self._feed(tail, pos)  # checks the stream's zstd checksum
            except CassetteError:
                self._bad_end = self._error("the stream's end fails its checksum", pos)
                return
            self.end = pos + 7
            self.finished = True

    def _finish(self, pos: int) -> None:
        checksum = self._read_at(pos, 4)
        if len(checksum) < 4:
            raise self._error("file ends inside a stream's checksum (truncated)", pos)
        self._feed(checksum, pos)
        self.end = pos + 4
        self.finished = True

    def _block(self, pos: int, offset: int) -> bytes:
        """The zstd block at ``pos``, header included (and not its frame's checksum)."""
        head = self._read_at(pos, 3)
        if len(head) < 3:
            raise self._error("file ends inside a stream piece (truncated)", offset)
        value = int.from_bytes(head, "little")
        block_type, block_size = (value >> 1) & 3, value >> 3
        if block_type == 3:
            raise self._error("reserved zstd block type in a stream", offset)
        if block_size > _MAX_BLOCK:
            raise self._error("zstd block larger than 128 KiB in a stream", offset)
        size = 1 if block_type == 1 else block_size
        block = self._read_at(pos, 3 + size)
        if len(block) < 3 + size:
            raise self._error("file ends inside a stream piece (truncated)", offset)
        return block
