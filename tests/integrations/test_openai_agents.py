"""The OpenAI Agents SDK: the Responses API with a function tool, streamed and not, and
the SDK's trace export."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from agents import Runner
from agents.tracing import get_trace_provider
from agents.tracing.processors import default_exporter
from openai import AsyncOpenAI

from tests.integrations.conftest import (
    Servers,
    all_steps,
    example,
    model_steps,
    record_and_replay,
    tool_steps,
)
from tests.servers import ToolServer

QUESTION = "Where is my order A-1001?"


@pytest.fixture
def traces() -> Iterator[ToolServer]:
    """The SDK's trace exporter, sending to a local endpoint instead of OpenAI's."""
    server = ToolServer().start()
    exporter = default_exporter()
    endpoint = exporter.endpoint
    exporter.endpoint = f"{server.url}/v1/traces/ingest"
    try:
        yield server
    finally:
        get_trace_provider().force_flush()
        exporter.endpoint = endpoint
        # Its pooled connection to the local endpoint, closed now rather than whenever a
        # later test happens to collect it; the exporter is global, so it gets a new client.
        exporter.close()  # type: ignore[no-untyped-call]
        exporter._client = httpx2.Client(timeout=httpx2.Timeout(timeout=60, connect=5.0))
        server.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_agents_sdk_agent_replays_every_model_call_and_tool_result(
    servers: Servers, cassette: Path, traces: ToolServer, stream: bool
) -> None:
    agent_module = example("openai_agents_agent")

    async def conversation() -> list[Any]:
        async with AsyncOpenAI(max_retries=0) as client:
            agent = agent_module.build_agent(client)
            if stream:
                streamed = Runner.run_streamed(agent, QUESTION)
                async for _ in streamed.stream_events():
                    pass
                result: Any = streamed
            else:
                result = await Runner.run(agent, QUESTION)
            return [result.final_output, result.to_input_list()]

    def run() -> list[Any]:
        answer = asyncio.run(conversation())
        get_trace_provider().force_flush()
        return answer

    recorded, replays = record_and_replay(cassette, run, servers)
    assert recorded[0] == "Order A-1001 is shipped."
    assert "espresso machine" in str(recorded[1])
    assert replays == [recorded] * len(replays)
    model_steps(cassette, stream=stream, calls=2)
    tool_steps(cassette)
    assert traces.count() > 0  # traces went out while recording, and are no steps
    assert not [s for s in all_steps(cassette) if (s.url or "").startswith(traces.url)]
