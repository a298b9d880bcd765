"""What a recorder keeps of a body to tell, at an early close, whether it was all read."""

from __future__ import annotations

import pytest

from agentreplay.session.recorder import _BodySeen

SSE = (("Content-Type", "text/event-stream"),)


def seen(headers: tuple[tuple[str, str], ...], *chunks: bytes) -> _BodySeen:
    body = _BodySeen(headers)
    for chunk in chunks:
        body.saw(chunk)
    return body


@pytest.mark.parametrize(
    "chunks",
    [
        [b'data: {"x": 1}\n\n' * 3, b"data: [DONE]\n\n"],
        [b'data: {"x": 1}\n\ndata: [DONE]\n\n'],
        [b'data: {"x": 1}\n\n', b"data: [DO", b"NE]\n", b"\n"],
        [b"data: [DONE]\r\n\r\n"],
        [b'data: {"x": 1}\n\n' * 5 + b"data:", b" [DONE]", b"\n", b"\n"],
    ],
)
def test_a_stream_read_to_its_terminal_event_is_read_to_the_end(chunks: list[bytes]) -> None:
    assert seen(SSE, *chunks).read_to_end()


@pytest.mark.parametrize(
    "chunks",
    [
        [b'data: {"x": 1}\n\n'],
        [b"data: [DONE]\n"],  # the blank line that dispatches it has not come
        [b"data: [DONE]\n\n", b'data: {"x": 1}\n\n'],
        [b"xdata: [DONE]\n\n"],
    ],
)
def test_a_stream_stopped_before_its_terminal_event_is_not(chunks: list[bytes]) -> None:
    assert not seen(SSE, *chunks).read_to_end()


def test_a_declared_length_counts_bytes_and_other_bodies_are_not_known_complete() -> None:
    length = (("Content-Length", "10"),)
    assert not seen(length, b"12345").read_to_end()
    assert seen(length, b"12345", b"67890").read_to_end()
    chunked = (("Content-Length", "10"), ("Transfer-Encoding", "chunked"))
    assert not seen(chunked, b"1234567890").read_to_end()
    gzipped = (("content-length", "4"), ("content-encoding", "gzip"))
    assert not seen(gzipped, b"abcd").read_to_end()
    assert not seen((), b"data: [DONE]\n\n").read_to_end()  # not a server-sent stream
