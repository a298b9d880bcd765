"""Time to first token, duration and inter-chunk gaps, from the recorded chunk offsets."""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

from agentreplay.demo.model_server import Reply
from tests.llm.helpers import Serve, openai_client, record

DELAY = 0.05


def test_stream_timing_comes_from_the_recorded_chunk_offsets(serve: Serve, path: Path) -> None:
    server = serve(Reply(text="one two three four five"), chunk_delay=DELAY)

    def agent() -> None:
        with openai_client(server) as client:
            for _ in client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": "count"}], stream=True
            ):
                pass

    [exchange] = record(path, agent)
    call = exchange.call()
    chunks, start = exchange.chunks, exchange.request.at
    assert call.ttft is not None and call.duration is not None
    # The first chunk only says who speaks; the first words come one delay later.
    assert b'"content": ""' in chunks[0].data
    assert call.ttft == (chunks[1].at - start) / 1e9
    assert DELAY * 0.8 < call.ttft <= call.duration
    assert exchange.end_at is not None
    assert call.duration == (exchange.end_at - start) / 1e9
    assert len(call.gaps) == len(chunks) - 1
    assert call.gaps == [(b.at - a.at) / 1e9 for a, b in itertools.pairwise(chunks)]
    assert DELAY * 0.5 < statistics.median(call.gaps) < DELAY * 3
    assert sum(call.gaps) <= call.duration


def test_non_streamed_ttft_is_the_first_body_chunk(serve: Serve, path: Path) -> None:
    server = serve(Reply(text="Sunny."))

    def agent() -> None:
        with openai_client(server) as client:
            client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": "Weather?"}]
            )

    [exchange] = record(path, agent)
    call = exchange.call()
    assert call.ttft == (exchange.chunks[0].at - exchange.request.at) / 1e9
    assert call.duration is not None and 0 < call.ttft <= call.duration
    assert len(call.gaps) == len(exchange.chunks) - 1
