"""LiteLLM: OpenAI and Anthropic through ``litellm.completion``, streamed and not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import Servers, example, model_steps, record_and_replay, tool_steps

# LiteLLM's own code makes pydantic warn (a ReadOnly item in a TypedDict, a deprecated
# attribute read on an instance).
pytestmark = [
    pytest.mark.filterwarnings("ignore:Item .* `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
]

QUESTION = "Where is my order A-1001?"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_litellm_agent_replays_every_model_call_and_tool_result(
    servers: Servers, cassette: Path, provider: str, stream: bool
) -> None:
    agent_module = example("litellm_agent")

    def run() -> list[Any]:
        return list(agent_module.conversation(QUESTION, provider, stream))

    recorded, replays = record_and_replay(cassette, run, servers)
    assert [message["role"] for message in recorded] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert "espresso machine" in recorded[3]["content"]
    assert recorded[-1]["content"] == "Order A-1001 is shipped."
    assert replays == [recorded] * len(replays)
    model_steps(cassette, stream=stream, calls=2)
    tool_steps(cassette)
