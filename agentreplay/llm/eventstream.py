"""AWS event-stream framing (``application/vnd.amazon.eventstream``), read and written.

Bedrock's streaming APIs send binary messages rather than server-sent
events. Each message is::

    total length (u32) | headers length (u32) | CRC32 of those 8 bytes
    headers | payload | CRC32 of everything before it

and each header is a name (u8 length + bytes), a type byte and a value.
`parse_eventstream` turns decoded body pieces into `SseEvent`s, so that an
API module reads Bedrock streams as it reads SSE: ``event`` is the message's
``:event-type`` (or its ``:exception-type`` for an exception message) and
``data`` its payload. A message is stamped with the arrival of the chunk in
which it completed. A broken message (bad length or checksum) ends the
stream there, as a cut-short body would.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Mapping

from agentreplay.llm.wire import Piece, SseEvent

__all__ = ["CONTENT_TYPE", "EventStreamParser", "encode_message", "parse_eventstream"]

CONTENT_TYPE = "application/vnd.amazon.eventstream"

_PRELUDE = 12
_MAX_MESSAGE = 24 * 1024 * 1024  # AWS allows 16 MiB of payload and 128 KiB of headers
_STRING = 7
# Value sizes of the fixed-size header types; 6 (bytes) and 7 (string) carry a u16 length.
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


class _Broken(Exception):
    """The stream holds something that is not an event-stream message."""


def _headers(data: bytes) -> dict[str, str]:
    """The string-valued headers of a message; values of other types are skipped."""
    found: dict[str, str] = {}
    at = 0
    while at < len(data):
        size = data[at]
        name = data[at + 1 : at + 1 + size].decode("utf-8", "replace")
        at += 1 + size
        if at >= len(data):
            raise _Broken
        kind = data[at]
        at += 1
        if kind in _FIXED:
            at += _FIXED[kind]
        elif kind in (6, _STRING):
            (length,) = struct.unpack_from(">H", data, at)
            value = data[at + 2 : at + 2 + length]
            at += 2 + length
            if kind == _STRING:
                found[name] = value.decode("utf-8", "replace")
        else:
            raise _Broken
    if at != len(data):
        raise _Broken
    return found


class EventStreamParser:
    """An incremental reader of event-stream messages, fed chunk by chunk."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.broken = False

    def feed(self, data: bytes, at: int) -> list[SseEvent]:
        if self.broken:
            return []
        self._buffer += data
        events: list[SseEvent] = []
        try:
            while len(self._buffer) >= _PRELUDE:
                event = self._next(at)
                if event is None:
                    break
                events.append(event)
        except (_Broken, struct.error):
            self.broken = True
            self._buffer.clear()
        return events

    def _next(self, at: int) -> SseEvent | None:
        buffer = self._buffer
        total, header_size, prelude_crc = struct.unpack_from(">III", buffer)
        if zlib.crc32(buffer[:8]) != prelude_crc or not 16 <= total <= _MAX_MESSAGE:
            raise _Broken
        if header_size > total - 16:
            raise _Broken
        if len(buffer) < total:
            return None
        message = bytes(buffer[:total])
        del buffer[:total]
        (message_crc,) = struct.unpack_from(">I", message, total - 4)
        if zlib.crc32(message[:-4]) != message_crc:
            raise _Broken
        headers = _headers(message[_PRELUDE : _PRELUDE + header_size])
        payload = message[_PRELUDE + header_size : -4].decode("utf-8", "replace")
        if headers.get(":message-type") == "exception":
            name = headers.get(":exception-type") or "exception"
        elif headers.get(":message-type") == "error":
            name = headers.get(":error-code") or "error"
            payload = payload or headers.get(":error-message", "")
        else:
            name = headers.get(":event-type") or ""
        return SseEvent(name or None, payload, at)


def parse_eventstream(pieces: Iterable[Piece]) -> list[SseEvent]:
    """Every message in a decoded body, each stamped with the arrival of its last byte."""
    parser = EventStreamParser()
    events: list[SseEvent] = []
    for at, data in pieces:
        events += parser.feed(data, at)
    return events


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string ``headers`` and ``payload``."""
    head = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack(">I", zlib.crc32(body))
