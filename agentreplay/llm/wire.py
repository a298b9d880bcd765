"""From recorded body chunks to JSON values and server-sent events.

Chunks are the bytes the client read from the socket, so they may still be
compressed (``content-encoding``) and an SSE event may span several of them.
Each decoded piece keeps the ``at`` of the chunk it came from, so an event's
arrival is the time of the chunk in which it completed.
"""

from __future__ import annotations

import importlib
import json
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agentreplay.cassette.events import Headers, HttpChunk

__all__ = [
    "MAX_BODY",
    "Piece",
    "SseEvent",
    "SseParser",
    "as_count",
    "as_dict",
    "as_list",
    "as_str",
    "body_pieces",
    "header",
    "load_json",
    "parse_sse",
]

MAX_BODY = 64 * 1024 * 1024
"""Bytes of decompressed body decoded at most, so that a compression bomb stays harmless."""

Piece = tuple[int, bytes]
"""Decoded body bytes and the ``at`` (ns) of the chunk they came from."""

# A body that already reads as JSON or SSE was decoded before it was recorded
# (aiohttp hands out decompressed bytes but keeps the content-encoding header).
_PLAIN_START = re.compile(rb"\s*(?:[{\[\"]|data:|event:|id:|retry:|:)")


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event: its ``event:`` name, its joined ``data:`` lines, its arrival."""

    event: str | None
    data: str
    at: int


# JSON access ------------------------------------------------------------------


def load_json(data: bytes | str) -> Any:
    """The JSON value in ``data``, or None if it is not JSON."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_count(value: Any) -> int | None:
    """A token count: a non-negative int (not a bool), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def header(headers: Headers, name: str) -> str:
    """The value of the first header called ``name`` (any case), or ``""``."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return ""


# Content decoding -------------------------------------------------------------


class _Layer:
    """Undoes one content encoding chunk by chunk; stops for good at the first error."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.unsupported = False
        self._inflate: Callable[[bytes, int], bytes] | None = None
        self._failed = False

    def feed(self, data: bytes, budget: int) -> bytes:
        if self._failed or self.unsupported or not data:
            return b""
        if self._inflate is None:
            self._inflate = _inflater(self.encoding, data)
            if self._inflate is None:
                self.unsupported = True
                return b""
        try:
            return self._inflate(data, budget)
        except Exception:  # zlib.error, brotli.error: a corrupt or truncated stream
            self._failed = True
            return b""


def _passthrough(data: bytes, budget: int) -> bytes:
    return data[:budget]


def _inflater(encoding: str, first: bytes) -> Callable[[bytes, int], bytes] | None:
    """How to undo ``encoding``, judging by the first bytes whether it was already undone.

    No gzip, zlib or likely brotli stream starts like JSON or SSE text does.
    """
    if _PLAIN_START.match(first):
        return _passthrough
    if encoding in ("gzip", "x-gzip"):
        return _zlib(zlib.decompressobj(16 + zlib.MAX_WBITS))
    if encoding == "deflate":
        # HTTP "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
        wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return _zlib(zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS))
    return _brotli() if encoding == "br" else None


def _zlib(decompressor: Any) -> Callable[[bytes, int], bytes]:
    def inflate(data: bytes, budget: int) -> bytes:
        if decompressor.eof:
            return b""
        out: bytes = decompressor.decompress(data, max(budget, 1))
        if decompressor.unconsumed_tail:
            raise zlib.error("decompressed body exceeds the size limit")
        return out

    return inflate


def _brotli() -> Callable[[bytes, int], bytes] | None:
    for name in ("brotli", "brotlicffi"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return _brotli_inflater(module.Decompressor())
    return None


def _brotli_inflater(decompressor: Any) -> Callable[[bytes, int], bytes]:
    process = getattr(decompressor, "process", None) or decompressor.decompress

    def inflate(data: bytes, budget: int) -> bytes:
        out: bytes = process(data)
        return out[:budget]

    return inflate


def body_pieces(headers: Headers, chunks: Sequence[HttpChunk]) -> list[Piece] | None:
    """The body, decoded chunk by chunk; None if its content encoding cannot be undone here.

    A body whose compressed stream breaks off is cut where it breaks, not refused.
    """
    encodings = [e.strip().lower() for e in header(headers, "content-encoding").split(",")]
    layers = [_Layer(e) for e in reversed(encodings) if e and e != "identity"]
    pieces: list[Piece] = []
    budget = MAX_BODY
    for chunk in chunks:
        data = chunk.data
        for layer in layers:
            data = layer.feed(data, budget)
        data = data[:budget]
        budget -= len(data)
        if data:
            pieces.append((chunk.at, data))
    if any(layer.unsupported for layer in layers):
        return None
    return pieces


# Server-sent events -----------------------------------------------------------

_LINE_END = re.compile(rb"\r\n|\r|\n")


class SseParser:
    """An incremental parser of ``text/event-stream`` as the WHATWG spec describes it.

    Lines may end in CRLF, LF or CR, even when a chunk boundary falls between
    the CR and the LF; an event ends at a blank line.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skip_lf = False
        self._name: str | None = None
        self._data: list[str] = []

    def feed(self, data: bytes, at: int) -> list[SseEvent]:
        if self._skip_lf and data.startswith(b"\n"):
            data = data[1:]
        self._skip_lf = False
        if not self._buffer and b"\r" not in data:
            return self._feed_lf(data, at)
        # The kept tail holds no line end, so only the new bytes need scanning.
        scan_from = len(self._buffer)
        self._buffer += data
        events: list[SseEvent] = []
        start = 0
        for match in _LINE_END.finditer(self._buffer, scan_from):
            if match.group() == b"\r" and match.end() == len(self._buffer):
                self._skip_lf = True  # the LF of this CRLF may come in the next chunk
            event = self._line(bytes(self._buffer[start : match.start()]), at)
            if event is not None:
                events.append(event)
            start = match.end()
        del self._buffer[:start]
        return events

    def _feed_lf(self, data: bytes, at: int) -> list[SseEvent]:
        """`feed` when nothing is pending and every line ends in LF (what servers send):
        the same events, found by splitting instead of scanning."""
        *lines, tail = data.split(b"\n")
        events: list[SseEvent] = []
        for raw in lines:
            event = self._line(raw, at)
            if event is not None:
                events.append(event)
        self._buffer += tail
        return events

    def finish(self, at: int) -> list[SseEvent]:
        """The events still pending when the body ends.

        An unterminated last event is kept rather than dropped as the spec
        says: a stream that was cut short is what a debugger gets asked about.
        """
        self._skip_lf = False
        return self.feed(b"\n\n", at)

    def _line(self, raw: bytes, at: int) -> SseEvent | None:
        if not raw:
            return self._dispatch(at)
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._name = value or None
        return None

    def _dispatch(self, at: int) -> SseEvent | None:
        name, data = self._name, self._data
        self._name, self._data = None, []
        if not data:
            return None
        return SseEvent(name, "\n".join(data), at)


def parse_sse(pieces: Iterable[Piece]) -> list[SseEvent]:
    """Every event in a decoded body, each stamped with the arrival of its last byte."""
    parser = SseParser()
    events: list[SseEvent] = []
    last = 0
    for at, data in pieces:
        events += parser.feed(data, at)
        last = at
    return events + parser.finish(last)
