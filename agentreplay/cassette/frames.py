"""Bytes on disk: the frames of a cassette file (see docs/cassette-format.md).

    file   := header data_frame* [index footer]
    header := skippable frame 0x184D2A50: "AGENTRPL" u16 major u16 minor u32 crc32 msgpack-map
    data   := zstd frame (content size and checksum set) of msgpack [type, items]
              (format 4: type 3 holds entries of the index of steps, written as it goes)
            | a piece of a stream (format 5, stream.py): many data frames in one zstd frame
            | [link] zstd frame: a chained frame (formats 3 and 4, read only, chain.py)
    index  := skippable frame 0x184D2A51: u32 crc32, then a zstd frame of msgpack-map
    footer := skippable frame 0x184D2A5F of 16 bytes: "AGRPFOOT" u64 index offset

All integers are little-endian. Nothing here knows what an event is; it
moves msgpack values in and out of frames and turns anything malformed into
`CassetteError` with the byte offset where it was found.
"""

from __future__ import annotations

import bisect
import struct
import zlib
from typing import IO, Any, Final

import msgpack
import zstandard

from agentreplay.cassette.chain import (
    KEY_EVERY,
    LINK_MAGIC,
    LINK_SIZE,
    PREFIX,
    History,
    decode_link,
)
from agentreplay.cassette.chain import decompressor as chain_decompressor
from agentreplay.cassette.codec import check_plain
from agentreplay.cassette.limits import MAX_FRAME_CONTENT, MAX_ITEMS, content_limit, unpack
from agentreplay.cassette.stream import STREAM_MAGIC, StreamReader
from agentreplay.errors import CassetteError

__all__ = [
    "FORMAT_MAJOR",
    "FORMAT_MINOR",
    "FRAME_BLOBS",
    "FRAME_EVENTS",
    "FRAME_STEPS",
    "FrameReader",
    "FrameTooLarge",
    "encode_content",
    "encode_data_frame",
    "encode_footer",
    "encode_header",
    "encode_index",
    "pack_data_frame",
]

FORMAT_MAJOR: Final = 7
FORMAT_MINOR: Final = 0

HEADER_MAGIC: Final = 0x184D2A50
INDEX_MAGIC: Final = 0x184D2A51
FOOTER_MAGIC: Final = 0x184D2A5F
ZSTD_MAGIC: Final = 0xFD2FB528
HEADER_TAG: Final = b"AGENTRPL"
FOOTER_TAG: Final = b"AGRPFOOT"
FOOTER_SIZE: Final = 8 + 16

FRAME_EVENTS: Final = 1
FRAME_BLOBS: Final = 2
FRAME_STEPS: Final = 3

MAX_HEADER: Final = 16 * 1024 * 1024
MAX_INDEX: Final = 256 * 1024 * 1024
_MAX_BLOCK: Final = 128 * 1024

_compressor = zstandard.ZstdCompressor(level=3, write_checksum=True, write_content_size=True)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def _skippable(magic: int, payload: bytes) -> bytes:
    return struct.pack("<II", magic, len(payload)) + payload


def encode_header(header: dict[str, Any]) -> bytes:
    body = pack(header)
    if len(body) > MAX_HEADER - 16:  # the frame, 16 bytes more than the map, is what is capped
        raise ValueError(f"cassette header is {len(body)} bytes; the limit is {MAX_HEADER - 16}")
    version = struct.pack("<HH", FORMAT_MAJOR, FORMAT_MINOR)
    payload = HEADER_TAG + version + struct.pack("<I", zlib.crc32(version + body)) + body
    return _skippable(HEADER_MAGIC, payload)


_INT: Final = {int}


class FrameTooLarge(ValueError):
    """The content of a data frame would exceed `MAX_FRAME_CONTENT`, which readers refuse."""


def pack_data_frame(frame_type: int, items: list[Any], steps: list[int] | None = None) -> bytes:
    """The content of a data frame: an events frame is ``[1, events, steps]`` (steps[i]
    is the step of events[i]); a blobs frame is ``[2, blobs]``; a steps frame, ``[3,
    step entries]``."""
    value = [frame_type, items] if steps is None else [frame_type, items, steps]
    content = pack(value)
    if len(content) > MAX_FRAME_CONTENT:
        raise FrameTooLarge(f"a frame of {len(content)} bytes; the limit is {MAX_FRAME_CONTENT}")
    return content


def encode_data_frame(frame_type: int, items: list[Any], steps: list[int] | None = None) -> bytes:
    """A data frame (a keyframe) holding ``items``; see `pack_data_frame`."""
    return encode_content(pack_data_frame(frame_type, items, steps))


def encode_content(content: bytes) -> bytes:
    """A data frame of its own holding ``content`` (made by `pack_data_frame`)."""
    return _compressor.compress(content)


def encode_index(index: dict[str, Any]) -> bytes:
    compressed = _compressor.compress(pack(index))
    return _skippable(INDEX_MAGIC, struct.pack("<I", zlib.crc32(compressed)) + compressed)


def encode_footer(index_offset: int) -> bytes:
    return _skippable(FOOTER_MAGIC, FOOTER_TAG + struct.pack("<Q", index_offset))


def _zstd_frame_length(
    buf: bytes | memoryview, offset: int, limit: int = MAX_FRAME_CONTENT
) -> tuple[int, int]:
    """Walk the zstd frame starting at ``buf[0]``: return (its length, content size).

    Follows RFC 8878 section 3.1.1: frame header, then blocks until the last
    one, then the 4-byte checksum. Raises ValueError on anything not allowed
    in a cassette (no checksum, no content size, reserved bits, a dictionary).
    """
    if len(buf) < 6:
        raise EOFError
    descriptor = buf[4]
    fcs_flag = descriptor >> 6
    single_segment = (descriptor >> 5) & 1
    if descriptor & 0x08:
        raise ValueError("reserved bit set in zstd frame header")
    if not descriptor & 0x04:
        raise ValueError("zstd frame has no content checksum")
    if descriptor & 0x03:
        raise ValueError("zstd frame uses a dictionary")
    if fcs_flag == 0 and not single_segment:
        raise ValueError("zstd frame does not declare its content size")
    fcs_size = (1, 2, 4, 8)[fcs_flag] if (fcs_flag or single_segment) else 0
    pos = 5 + (0 if single_segment else 1)
    if len(buf) < pos + fcs_size:
        raise EOFError
    raw = bytes(buf[pos : pos + fcs_size])
    content_size = int.from_bytes(raw, "little") + (256 if fcs_size == 2 else 0)
    if content_size > limit:
        raise ValueError(
            f"zstd frame declares {content_size:,} bytes of content, over the limit "
            f"({limit:,} for this file)"
        )
    pos += fcs_size
    while True:
        if len(buf) < pos + 3:
            raise EOFError
        block_header = int.from_bytes(bytes(buf[pos : pos + 3]), "little")
        last = block_header & 1
        block_type = (block_header >> 1) & 3
        block_size = block_header >> 3
        if block_type == 3:
            raise ValueError("reserved zstd block type")
        if block_size > _MAX_BLOCK:
            raise ValueError("zstd block larger than 128 KiB")
        pos += 3 + (1 if block_type == 1 else block_size)
        if last:
            break
    pos += 4
    if len(buf) < pos:
        raise EOFError
    return pos, content_size


class FrameReader:
    """Reads frames one at a time from a binary file positioned anywhere.

    Counts the frames it decompresses in `frames_decompressed`, so callers
    (and tests) can check that random access stays cheap.
    """

    def __init__(self, file: IO[bytes], path: str | None = None) -> None:
        self._file = file
        self.path = path
        self.frames_decompressed = 0
        self._decompressor = zstandard.ZstdDecompressor()
        self.history = History()
        self.stream: StreamReader | None = None
        """The stream read last (format 5), where reading it in order goes on."""
        self._streams: dict[int, tuple[int, bool]] = {}  # start -> (end, ended) of each known
        self._stream_starts: list[int] = []  # their starts, in order
        self._pieces: dict[int, tuple[int, bytes]] = {}
        """offset -> (next offset, content) of the pieces of `stream` read so far: reading
        one again, as a step's events and then their blobs do, costs nothing (a stream
        holds at most `STREAM_CONTENT`)."""
        file.seek(0, 2)
        self.size = file.tell()

    def _error(self, message: str, offset: int) -> CassetteError:
        return CassetteError(message, offset=offset, path=self.path)

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``, which must lie in the file."""
        if not 0 <= offset <= self.size:
            raise self._error(f"offset {offset} is outside the file ({self.size} bytes)", offset)
        self._file.seek(offset)
        return self._file.read(max(0, min(size, self.size - offset)))

    def read_header(self) -> tuple[tuple[int, int], dict[str, Any], int]:
        """Return ((major, minor), header map, offset of the first data frame)."""
        if self.size == 0:
            raise self._error("the file is empty; it is not a cassette", 0)
        head = self.read_at(0, 24)
        if (
            len(head) < 24
            or struct.unpack_from("<I", head)[0] != HEADER_MAGIC
            or head[8:16] != HEADER_TAG
        ):
            raise self._error("not an agentreplay cassette (bad magic number)", 0)
        size = struct.unpack_from("<I", head, 4)[0]
        major, minor, crc = struct.unpack_from("<HHI", head, 16)
        if major > FORMAT_MAJOR:
            raise self._error(
                f"cassette format version {major}.{minor} is newer than this agentreplay "
                f"reads (format {FORMAT_MAJOR}.{FORMAT_MINOR}); upgrade agentreplay",
                16,
            )
        if major < 1:
            raise self._error(f"unknown cassette format version {major}.{minor}", 16)
        if size < 16 or size > MAX_HEADER:
            raise self._error(f"header frame size {size} is out of bounds", 4)
        payload = self.read_at(8, size)
        if len(payload) < size:
            raise self._error("file ends inside the header frame", 8 + len(payload))
        body = payload[16:]
        # From 7.0 it covers the version too: a damaged one is not read as another format.
        if zlib.crc32(head[16:20] + body if major >= 7 else body) != crc:
            raise self._error("header checksum mismatch", 24)
        header = unpack(body, 24, "header", MAX_ITEMS)
        if not isinstance(header, dict):
            raise self._error("header is not a map", 24)
        try:
            check_plain(header, "the header")
        except CassetteError as exc:
            raise self._error(exc.detail, 24) from None
        return (major, minor), header, 8 + size

    def read_footer(self) -> int | None:
        """Return the index offset the footer names, or None if there is no footer."""
        if self.size < FOOTER_SIZE:
            return None
        tail = self.read_at(self.size - FOOTER_SIZE, FOOTER_SIZE)
        magic, length = struct.unpack_from("<II", tail)
        if magic != FOOTER_MAGIC or length != 16 or tail[8:16] != FOOTER_TAG:
            return None
        offset: int = struct.unpack_from("<Q", tail, 16)[0]
        return offset

    def read_index(self, offset: int) -> dict[str, Any]:
        if not 0 <= offset <= self.size - FOOTER_SIZE - 12:
            raise self._error(f"footer points at byte {offset}, outside the file", offset)
        head = self.read_at(offset, 12)
        if len(head) < 12:
            raise self._error("index frame is cut short", offset)
        magic, size, crc = struct.unpack("<III", head)
        if magic != INDEX_MAGIC or not 4 <= size <= MAX_INDEX:
            raise self._error("footer does not point at an index frame", offset)
        compressed = self.read_at(offset + 12, size - 4)
        if len(compressed) != size - 4 or zlib.crc32(compressed) != crc:
            raise self._error("index checksum mismatch", offset)
        limit = content_limit(self.size, MAX_INDEX)
        try:
            # decompress() allocates what the frame declares, whatever max_output_size says.
            declared = zstandard.frame_content_size(compressed)
            if not 0 <= declared <= limit:
                raise self._error(
                    f"index declares {declared:,} bytes of content, over the limit "
                    f"({limit:,} for this file)",
                    offset,
                )
            data = self._decompressor.decompress(compressed, max_output_size=limit)
        except zstandard.ZstdError as exc:
            raise self._error(f"index does not decompress: {exc}", offset) from exc
        # An index holds a few values per frame and step; a file holds each in some bytes.
        index = unpack(data, offset, "index", max(MAX_ITEMS, self.size // 2))
        if not isinstance(index, dict):
            raise self._error("index is not a map", offset)
        return index

    def next_frame(self, offset: int) -> tuple[str, int, Any]:
        """Read the frame at ``offset``: return (kind, next offset, value).

        kind is "data" (value = decoded msgpack), "index", "footer", or "end"
        at the end of the file. A chained frame (a link, then its data frame) is
        one "data" frame at the link's offset. Raises CassetteError for anything else.
        """
        kind, end, content = self.content_at(offset)
        if content is None:
            return kind, end, None
        return kind, end, self._decode(content, offset)

    def content_at(self, offset: int) -> tuple[str, int, bytes | None]:
        """(kind, next offset, content): the decompressed content of a data frame, None
        for the others (see `next_frame`)."""
        if offset >= self.size:
            return "end", offset, None
        stream = self.stream
        if stream is not None and stream.end == offset and not stream.finished:
            return "data", *self._piece(stream)
        seen = self._pieces.get(offset)
        if seen is not None:
            return "data", *seen
        start = self._stream_around(offset)
        if start is not None:  # a piece inside a stream: read the stream up to it
            return "data", *self._piece(self._catch_up_stream(start, offset))
        head = self.read_at(offset, LINK_SIZE)
        if len(head) < 8:
            raise self._error("file ends inside a frame header (truncated)", offset)
        magic = struct.unpack_from("<I", head)[0]
        if magic in (INDEX_MAGIC, FOOTER_MAGIC):
            size = struct.unpack_from("<I", head, 4)[0]
            end = offset + 8 + size
            if end > self.size:
                raise self._error("file ends inside a skippable frame (truncated)", offset)
            return ("index" if magic == INDEX_MAGIC else "footer"), end, None
        if magic == LINK_MAGIC:
            content, end = self._chained(offset, head)
            return "data", end, content
        if magic == STREAM_MAGIC:
            self._add_stream(offset, offset, ended=False)
            return "data", *self._piece(self._new_stream(offset))
        if magic != ZSTD_MAGIC:
            raise self._error(
                f"unexpected bytes {head[:4].hex()} where a frame should start", offset
            )
        content, end = self._decompress(offset, None)
        self.history.add(content, end, keyframe=True, start=offset)
        return "data", end, content

    def frame_alone(self, offset: int) -> Any:
        """The value of the lone zstd frame at ``offset`` (a steps frame); else CassetteError."""
        head = self.read_at(offset, 4)
        if len(head) < 4 or struct.unpack_from("<I", head)[0] != ZSTD_MAGIC:
            raise self._error("no frame that reads alone starts here", offset)
        content, _ = self._decompress(offset, None)
        return self._decode(content, offset)

    # -- streams (format 5) ----------------------------------------------
    def add_streams(self, ranges: list[list[int]]) -> None:
        """Learn where streams start and end (from the index), for reading their pieces at
        random."""
        for start, end in ranges:
            self._add_stream(start, end, ended=True)

    def _add_stream(self, start: int, end: int, *, ended: bool) -> None:
        known = self._streams.get(start)
        if known is None:
            bisect.insort(self._stream_starts, start)
        elif known[0] >= end:
            return
        self._streams[start] = (end, ended)

    def _stream_around(self, offset: int) -> int | None:
        """The start of the known stream that ``offset`` lies inside (after its first
        piece), or None. The end of a stream read only partly is where its next piece is."""
        starts = self._stream_starts
        i = bisect.bisect_left(starts, offset) - 1
        if i < 0:
            return None
        end, ended = self._streams[starts[i]]
        if offset > end or (offset == end and ended):
            return None
        return starts[i]

    def _new_stream(self, start: int) -> StreamReader:
        if self.stream is None or self.stream.start != start:
            self._pieces.clear()
        self.stream = StreamReader(start, self.read_at, self._error)
        return self.stream

    def _piece(self, stream: StreamReader) -> tuple[int, bytes]:
        offset = stream.end if stream.content else stream.start
        content = stream.piece(content_limit(self.size))
        self.frames_decompressed += 1
        self._add_stream(stream.start, stream.end, ended=stream.finished)
        if stream is self.stream:
            self._pieces[offset] = (stream.end, content)
        return stream.end, content

    def _catch_up_stream(self, start: int, target: int) -> StreamReader:
        """A reader of the stream at ``start`` whose next piece is the one at ``target``."""
        stream = self.stream
        if stream is None or stream.start != start or stream.end > target or stream.finished:
            stream = self._new_stream(start)
        while stream.end < target and not stream.finished:
            self._piece(stream)
        if stream.end != target or stream.finished:
            raise self._error("no stream piece starts at this offset", target)
        return stream

    def _chained(self, offset: int, head: bytes) -> tuple[bytes, int]:
        distance = decode_link(head)
        if distance is None:
            if len(head) < LINK_SIZE:
                raise self._error("file ends inside a link frame (truncated)", offset)
            raise self._error("malformed link frame", offset)
        if distance > offset:
            raise self._error(
                f"link names a keyframe {distance} bytes back, before the file", offset
            )
        if self.history.end != offset:
            self._catch_up(offset - distance, offset)
        if self.history.key != offset - distance:
            raise self._error(
                f"link names a keyframe {distance} bytes back, but its chain starts at "
                f"byte {self.history.key}",
                offset,
            )
        if not len(self.history):
            raise self._error("link names no earlier content", offset)
        prefix = self.history.tail(PREFIX)
        content, end = self._decompress(offset + LINK_SIZE, prefix)
        self.history.add(content, end, keyframe=False)
        return content, end

    def _catch_up(self, keyframe: int, target: int) -> None:
        """Decompress the chain from ``keyframe`` up to ``target``: reading a chained
        frame at random needs the content before it."""
        self.history.reset()
        offset, read = keyframe, 0
        head = self.read_at(offset, 4)
        if len(head) < 4 or struct.unpack_from("<I", head)[0] != ZSTD_MAGIC:
            raise self._error("link names a keyframe that is not a data frame", target)
        while offset < target:
            _, offset, content = self.content_at(offset)
            if content is None:
                raise self._error("link names a keyframe that does not lead to it", target)
            read += len(content)
            if read > MAX_FRAME_CONTENT + KEY_EVERY:
                raise self._error("chain is longer than a writer makes one", target)
        if offset != target:
            raise self._error("link names a keyframe that does not lead to it", target)

    def _decompress(self, offset: int, prefix: bytes | None) -> tuple[bytes, int]:
        # Read the frame header and then the blocks, growing the buffer as needed.
        want = 4096
        limit = content_limit(self.size)
        while True:
            buf = self.read_at(offset, want)
            try:
                length, content_size = _zstd_frame_length(buf, offset, limit)
                break
            except EOFError:
                if offset + len(buf) >= self.size:
                    raise self._error("file ends inside a data frame (truncated)", offset) from None
                want *= 4
            except ValueError as exc:
                raise self._error(f"malformed data frame: {exc}", offset) from exc
        frame = buf[:length]
        decompressor = self._decompressor if prefix is None else chain_decompressor(prefix)
        try:
            content = decompressor.decompress(frame, max_output_size=limit)
        except zstandard.ZstdError as exc:
            raise self._error(f"data frame is damaged: {exc}", offset) from exc
        if len(content) != content_size:
            raise self._error("data frame content size mismatch", offset)
        self.frames_decompressed += 1
        return content, offset + length

    def _decode(self, content: bytes, offset: int) -> Any:
        value = unpack(content, offset, "data frame")
        if not (
            isinstance(value, list)
            and len(value) >= 2
            and isinstance(value[1], list)
            and (
                (value[0] in (FRAME_BLOBS, FRAME_STEPS) and len(value) == 2)
                or (
                    value[0] == FRAME_EVENTS
                    and len(value) == 3
                    and isinstance(value[2], list)
                    and len(value[2]) == len(value[1])
                    and set(map(type, value[2])) <= _INT  # step numbers
                )
            )
        ):
            raise self._error(
                "data frame is not [1, events, steps], [2, blobs] or [3, steps]", offset
            )
        return value
