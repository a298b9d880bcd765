"""pydantic-ai: an agent with an async httpx tool, streamed and not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.integrations.conftest import Servers, example, model_steps, record_and_replay, tool_steps

QUESTION = "Where is my order A-1001?"


def _without_durations(messages: bytes) -> Any:
    """The messages, each response's ``duration`` left out: pydantic-ai times its model
    requests with its own monotonic clock, which is not recorded (docs/integrations.md)."""
    parsed = json.loads(messages)
    for message in parsed:
        message.pop("duration", None)
    return parsed


@pytest.fixture
def http() -> Iterator[list[httpx2.AsyncClient]]:
    """HTTP clients for the model, closed on the event loop run_sync made and keeps."""
    clients: list[httpx2.AsyncClient] = []
    yield clients
    loop = asyncio.get_event_loop_policy().get_event_loop()
    for client in clients:
        loop.run_until_complete(client.aclose())
    loop.close()
    asyncio.set_event_loop(None)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_pydantic_ai_agent_replays_every_model_call_and_tool_result(
    servers: Servers, cassette: Path, stream: bool, http: list[httpx2.AsyncClient]
) -> None:
    """The case of an agent run with run_sync whose model calls once went unrecorded."""
    agent_module = example("pydantic_ai_agent")

    def run() -> tuple[str, Any]:
        http.append(httpx2.AsyncClient())
        agent = agent_module.build_agent(http[-1])
        if stream:
            streamed = agent.run_stream_sync(QUESTION)
            text = "".join(streamed.stream_text(delta=True))
            return text, _without_durations(streamed.all_messages_json())
        result = agent.run_sync(QUESTION)
        return result.output, _without_durations(result.all_messages_json())

    recorded, replays = record_and_replay(cassette, run, servers)
    assert recorded[0] == "Order A-1001 is shipped."
    raw = json.dumps(recorded[1])
    assert '"tool_name": "lookup_order"' in raw and "espresso machine" in raw
    assert '"run_id"' in raw and '"timestamp"' in raw  # ids and wall-clock times replay too
    assert replays == [recorded] * len(replays)
    model_steps(cassette, stream=stream, calls=2)
    tool_steps(cassette)


def test_the_pydantic_ai_example_runs_from_its_entrypoint(servers: Servers, cassette: Path) -> None:
    agent_module = example("pydantic_ai_agent")
    recorded, replays = record_and_replay(
        cassette, lambda: agent_module.main(QUESTION, stream=True), servers
    )
    assert replays == [recorded, recorded] == ["Order A-1001 is shipped."] * 2
    model_steps(cassette, stream=True, calls=2)
