"""The real openai and anthropic SDKs (on httpx2), recorded and replayed offline."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import anthropic
import openai
import pytest

import agentreplay
from agentreplay import DivergenceError
from agentreplay.cassette import HttpChunk, HttpEnd, HttpRequest
from agentreplay.demo.model_server import ModelServer, Reply, ToolCallSpec
from agentreplay.session.replaying import Replay
from tests.helpers import cassette_bytes

API_KEY = "sk-proj-SECRET-0123456789"
MESSAGES: Any = [{"role": "user", "content": "Find me a flight to Lisbon"}]
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "search_flights",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def _reply(request: Any) -> Reply:
    if request.body.get("tools"):
        return Reply(
            text="Let me look.", tool_calls=[ToolCallSpec("search_flights", {"city": "Lisbon"})]
        )
    return Reply(
        text="The cheapest flight to Lisbon leaves at 7:05 tomorrow.",
        thinking="The user wants a flight.",
    )


@pytest.fixture
def model() -> Iterator[ModelServer]:
    server = ModelServer(_reply).start()
    try:
        yield server
    finally:
        server.stop()


def _openai(url: str, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=API_KEY, **kwargs)


def _chunks(path: Path) -> list[bytes]:
    with agentreplay.open(path) as cassette:
        return [e.data for e in cassette.events() if isinstance(e, HttpChunk)]


def _openai_sync(url: str) -> list[Any]:
    with openai.OpenAI(base_url=f"{url}/v1", api_key=API_KEY) as client:
        plain = client.chat.completions.create(model="gpt-test", messages=MESSAGES)
        stream = client.chat.completions.create(
            model="gpt-test", messages=MESSAGES, tools=TOOLS, stream=True
        )
        chunks = [chunk.model_dump() for chunk in stream]
    return [plain.model_dump(), chunks]


async def _openai_async(url: str, **client_kwargs: Any) -> list[Any]:
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=API_KEY, **client_kwargs) as client:
        plain = await client.chat.completions.create(model="gpt-test", messages=MESSAGES)
        stream = await client.chat.completions.create(
            model="gpt-test", messages=MESSAGES, stream=True
        )
        chunks = [chunk.model_dump() async for chunk in stream]
    return [plain.model_dump(), chunks]


def _anthropic_sync(url: str) -> list[Any]:
    with anthropic.Anthropic(base_url=url, api_key=API_KEY) as client:
        plain = client.messages.create(model="claude-test", max_tokens=100, messages=MESSAGES)
        with client.messages.stream(
            model="claude-test", max_tokens=100, messages=MESSAGES
        ) as stream:
            events = [event.model_dump() for event in stream]
            final = stream.get_final_message()
    return [plain.model_dump(), events, final.model_dump()]


async def _anthropic_async(url: str) -> list[Any]:
    async with anthropic.AsyncAnthropic(base_url=url, api_key=API_KEY) as client:
        async with client.messages.stream(
            model="claude-test", max_tokens=100, messages=MESSAGES
        ) as stream:
            events = [event.model_dump() async for event in stream]
            final = await stream.get_final_message()
    return [events, final.model_dump()]


CASES = {
    "openai-sync": lambda url: _openai_sync(url),
    "openai-async": lambda url: asyncio.run(_openai_async(url)),
    "openai-aiohttp": lambda url: asyncio.run(
        _openai_async(url, http_client=openai.DefaultAioHttpClient())
    ),
    "anthropic-sync": lambda url: _anthropic_sync(url),
    "anthropic-async": lambda url: asyncio.run(_anthropic_async(url)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sdk_round_trip_is_identical_offline(model: ModelServer, cassette: Path, case: str) -> None:
    model.chunk_delay = 0.03  # events apart, even past the SDK's slow first read
    with agentreplay.record(cassette):
        recorded = CASES[case](model.url)
    served = len(model.requests)
    url = model.url
    model.stop()
    with agentreplay.replay(cassette) as run:
        replayed = CASES[case](url)
    assert replayed == recorded
    assert len(model.requests) == served  # replay never touched the network
    assert run.result is not None and run.result.reproduced
    chunks = _chunks(cassette)
    assert len(chunks) >= 4
    with agentreplay.open(cassette) as recording:  # every body read to its end, [DONE] too
        assert all(e.complete for e in recording.events() if isinstance(e, HttpEnd))
    if case != "openai-aiohttp":  # aiohttp reads whatever has arrived, 16 KiB at a time
        # One recorded chunk per server-sent event: boundaries as the server sent them.
        assert all(
            chunk.count(b"\n\n") == 1 for chunk in chunks if chunk.startswith((b"data:", b"event:"))
        )


def test_recording_does_not_hold_back_the_first_streamed_token(
    model: ModelServer, cassette: Path
) -> None:
    model.first_chunk_gate = threading.Event()
    with agentreplay.record(cassette), _openai(model.url) as client:
        for _ in client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True):
            model.first_chunk_gate.set()
    assert model.gate_opened_in_time is True


def test_the_api_key_never_reaches_the_cassette(model: ModelServer, cassette: Path) -> None:
    with agentreplay.record(cassette):
        _openai_sync(model.url)
        _anthropic_sync(model.url)
    data = cassette_bytes(cassette)
    assert API_KEY.encode() not in data
    assert b"SECRET" not in data


def test_a_changed_prompt_diverges_once_without_retries(model: ModelServer, cassette: Path) -> None:
    url = model.url
    with agentreplay.record(cassette), _openai(url) as client:
        client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    model.stop()
    changed: Any = [{"role": "user", "content": "Find me a flight to Porto"}]
    calls = mock.patch.object(Replay, "http_replay", autospec=True, side_effect=Replay.http_replay)
    with (
        calls as http_replay,
        pytest.raises(DivergenceError) as info,
        agentreplay.replay(cassette),
        _openai(url) as client,
    ):
        client.chat.completions.create(model="gpt-test", messages=changed)  # call site
    assert http_replay.call_count == 1  # the SDK's two retries never happened
    message = str(info.value)
    assert "Lisbon" in message and "Porto" in message
    assert "$.messages[0].content" in message
    assert info.value.call_site is not None
    assert info.value.call_site.filename == __file__
    assert "client.chat.completions.create" in info.value.call_site.line


def test_streaming_with_clock_reads_between_chunks_does_not_drift(
    model: ModelServer, cassette: Path
) -> None:
    async def agent(url: str) -> list[Any]:
        seen = [dt.datetime.now().isoformat()]
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=API_KEY) as client:
            for turn in range(2):
                stream = await client.chat.completions.create(
                    model="gpt-test",
                    stream=True,
                    messages=[{"role": "user", "content": f"turn {turn} at {seen[-1]}"}],
                )
                async for chunk in stream:
                    seen.append(f"{time.monotonic():.9f} {chunk.choices and chunk.id}")
                    await asyncio.sleep(0.001)
                seen.append(dt.datetime.now().isoformat())
        return seen

    model.chunk_delay = 0.005
    with agentreplay.record(cassette):
        recorded = asyncio.run(agent(model.url))
    url = model.url
    model.stop()
    with agentreplay.replay(cassette):
        assert asyncio.run(agent(url)) == recorded


def test_sdk_retry_after_a_429_replays(model: ModelServer, cassette: Path) -> None:
    model.fail_next(429, {"error": {"message": "slow down", "type": "rate_limit"}})
    url = model.url
    with agentreplay.record(cassette), _openai(url, max_retries=2) as client:
        recorded = client.chat.completions.create(model="gpt-test", messages=MESSAGES).model_dump()
    assert len(model.requests) == 2
    model.stop()
    with agentreplay.replay(cassette) as run, _openai(url, max_retries=2) as client:
        replayed = client.chat.completions.create(model="gpt-test", messages=MESSAGES).model_dump()
    assert replayed == recorded
    with agentreplay.open(cassette) as opened:
        requests = [e for e in opened.events() if isinstance(e, HttpRequest)]
    assert len(requests) == 2  # the 429 and the retry, both replayed
    assert run.result is not None and run.result.reproduced
