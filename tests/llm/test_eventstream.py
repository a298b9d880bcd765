"""AWS event-stream framing: messages written, split anywhere, read back; damage stops it."""

from __future__ import annotations

import struct
import zlib
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from agentreplay.llm.eventstream import EventStreamParser, encode_message, parse_eventstream
from agentreplay.llm.wire import SseEvent


def _message(name: str, payload: str, kind: str = "event") -> bytes:
    headers = {":message-type": kind}
    headers[":exception-type" if kind == "exception" else ":event-type"] = name
    return encode_message(headers, payload.encode())


def _framed(headers: bytes, payload: bytes, *, total: int | None = None) -> bytes:
    """A message laid out by hand: prelude, headers, payload and both checksums."""
    size = 12 + len(headers) + len(payload) + 4 if total is None else total
    prelude = struct.pack(">II", size, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


FIRST = _message("messageStart", '{"role": "assistant"}')
STREAM = FIRST + _message("contentBlockDelta", '{"delta": {"text": "Hé"}}')


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=8))
def test_messages_split_anywhere_come_out_whole_at_the_chunk_that_completes_them(
    cuts: list[int],
) -> None:
    bounds = list(pairwise([0, *sorted(cuts), len(STREAM)]))
    events = parse_eventstream([(index, STREAM[a:b]) for index, (a, b) in enumerate(bounds)])

    def completing(end: int) -> int:
        return next(index for index, (_, b) in enumerate(bounds) if b >= end)

    assert [(e.event, e.data) for e in events] == [
        ("messageStart", '{"role": "assistant"}'),
        ("contentBlockDelta", '{"delta": {"text": "Hé"}}'),
    ]
    assert [e.at for e in events] == [completing(len(FIRST)), completing(len(STREAM))]


def test_an_exception_message_is_named_by_its_exception_type() -> None:
    data = _message("throttlingException", '{"message": "Too many requests"}', "exception")
    assert parse_eventstream([(5, data)]) == [
        SseEvent("throttlingException", '{"message": "Too many requests"}', 5)
    ]


def test_headers_of_other_types_are_skipped() -> None:
    def string(name: bytes, value: bytes) -> bytes:
        return struct.pack(">B", len(name)) + name + struct.pack(">BH", 7, len(value)) + value

    number = struct.pack(">B", 5) + b":flag" + struct.pack(">Bi", 4, 7)
    headers = string(b":event-type", b"metadata") + number + string(b":message-type", b"event")
    assert parse_eventstream([(0, _framed(headers, b"{}"))]) == [SseEvent("metadata", "{}", 0)]


def test_a_damaged_message_ends_the_stream_there() -> None:
    bad = bytearray(_message("contentBlockDelta", '{"delta": {"text": "x"}}'))
    bad[-1] ^= 0xFF  # the message checksum no longer matches
    later = _message("messageStop", "{}")
    parser = EventStreamParser()
    assert [e.event for e in parser.feed(FIRST + bytes(bad) + later, 0)] == ["messageStart"]
    assert parser.broken
    assert parser.feed(later, 1) == []


def test_an_impossible_length_is_refused_before_waiting_for_it() -> None:
    parser = EventStreamParser()
    assert parser.feed(_framed(b"", b"x" * 100, total=2**31), 0) == []
    assert parser.broken
