"""LlamaIndex: a ``FunctionAgent`` workflow on the LiteLLM integration (which does not pin
the openai SDK), with an async httpx tool, streamed and not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import (
    Servers,
    aclose_litellm_clients,
    example,
    model_steps,
    record_and_replay,
    tool_steps,
)

# LiteLLM's and LlamaIndex's own code make pydantic warn (a ReadOnly item in a TypedDict,
# deprecated attributes read on an instance, which the workflow's step discovery does).
pytestmark = [
    pytest.mark.filterwarnings("ignore:Item .* `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
]

QUESTION = "Where is my order A-1001?"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_llamaindex_agent_replays_every_model_call_and_tool_result(
    servers: Servers, cassette: Path, stream: bool
) -> None:
    agent_module = example("llamaindex_agent")

    async def ask() -> dict[str, Any]:
        try:
            return dict(await agent_module.ask(QUESTION, stream))
        finally:
            await aclose_litellm_clients()  # their connections belong to this event loop

    def run() -> dict[str, Any]:
        return asyncio.run(ask())

    recorded, replays = record_and_replay(cassette, run, servers)
    assert recorded["answer"] == "Order A-1001 is shipped."
    [tool_result] = recorded["tool_results"]
    assert "espresso machine" in tool_result
    assert replays == [recorded] * len(replays)
    # LlamaIndex's LiteLLM integration asks for no token counts in a stream.
    model_steps(cassette, stream=stream, calls=2, tokens=not stream)
    tool_steps(cassette)
