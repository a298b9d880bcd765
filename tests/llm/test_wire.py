"""Server-sent events parsed across chunk boundaries, and content decoding."""

from __future__ import annotations

import gzip

import pytest

from agentreplay.cassette import HttpChunk
from agentreplay.llm import wire
from agentreplay.llm.wire import SseEvent, body_pieces, parse_sse


def _events(*pieces: bytes) -> list[SseEvent]:
    return parse_sse((at, data) for at, data in enumerate(pieces, start=1))


def test_an_event_arrives_with_the_chunk_that_completes_it() -> None:
    assert _events(b"event: a\nda", b"ta: {}\n", b"\ndata: 2\n\n") == [
        SseEvent("a", "{}", 3),
        SseEvent(None, "2", 3),
    ]


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    # The lone CR at the end of chunk 2 already ends the blank line that ends event 1.
    assert _events(b"data: 1\r", b"\n\r", b"\ndata: 2\r\n\r\n") == [
        SseEvent(None, "1", 2),
        SseEvent(None, "2", 3),
    ]


def test_lone_cr_ends_lines_too() -> None:
    assert _events(b"event: x\rdata: 1\r\r") == [SseEvent("x", "1", 1)]


def test_data_lines_join_comments_and_unknown_fields_are_skipped() -> None:
    body = b": keep-alive\nid: 7\nretry: 10\ndata: a\ndata:b\ndata\nfoo: bar\n\n"
    assert _events(body) == [SseEvent(None, "a\nb\n", 1)]


def test_event_name_does_not_leak_into_the_next_event() -> None:
    assert _events(b"event: x\ndata: 1\n\ndata: [DONE]\n\n") == [
        SseEvent("x", "1", 1),
        SseEvent(None, "[DONE]", 1),
    ]


def test_an_unterminated_last_event_is_kept() -> None:
    assert _events(b'data: 1\n\ndata: {"cut', b'"}') == [
        SseEvent(None, "1", 1),
        SseEvent(None, '{"cut"}', 2),
    ]


def test_blank_lines_alone_dispatch_nothing() -> None:
    assert _events(b"\n\n\r\n", b"event: lonely\n\n") == []


def _chunks(*data: bytes) -> list[HttpChunk]:
    return [HttpChunk("0", i, i, 0, d) for i, d in enumerate(data)]


def test_a_compression_bomb_stops_at_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_BODY", 1 << 20)
    bomb = gzip.compress(b"a" * (8 << 20))
    pieces = body_pieces((("content-encoding", "gzip"),), _chunks(bomb[:100], bomb[100:]))
    assert pieces is not None
    assert 0 < sum(len(data) for _, data in pieces) <= 1 << 20


def test_stacked_encodings_are_undone_in_reverse() -> None:
    body = b'{"x": 1}'
    twice = gzip.compress(gzip.compress(body))
    headers = (("Content-Encoding", "gzip, gzip"),)
    assert body_pieces(headers, _chunks(twice[:5], twice[5:])) == [(1, body)]
