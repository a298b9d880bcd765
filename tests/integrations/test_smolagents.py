"""smolagents: a tool-calling agent, its model streamed and not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import Servers, example, model_steps, record_and_replay, tool_steps

QUESTION = "Where is my order A-1001?"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_smolagents_agent_replays_every_model_call_and_tool_result(
    servers: Servers, cassette: Path, stream: bool
) -> None:
    agent_module = example("smolagents_agent")

    def run() -> tuple[str, list[Any]]:
        agent = agent_module.build_agent(stream)
        answer = str(agent.run(QUESTION))
        return answer, [step.dict() for step in agent.memory.steps]

    recorded, replays = record_and_replay(cassette, run, servers)
    assert recorded[0] == "Order A-1001 is shipped."
    assert "espresso machine" in str(recorded[1])
    assert replays == [recorded] * len(replays)
    model_steps(cassette, stream=stream, calls=2)
    tool_steps(cassette)
