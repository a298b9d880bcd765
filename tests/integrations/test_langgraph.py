"""LangGraph with langchain-openai and langchain-anthropic: a tool loop, streamed and not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.tracers.langchain import get_client as langsmith_client

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


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_langgraph_agent_replays_every_model_call_and_tool_result(
    servers: Servers, cassette: Path, provider: str, stream: bool
) -> None:
    agent_module = example("langgraph_agent")

    def run() -> list[Any]:
        graph = agent_module.build_graph(provider, stream)
        state = graph.invoke({"messages": [("user", QUESTION)]})
        return [
            (type(m).__name__, m.content, getattr(m, "tool_calls", None), m.response_metadata)
            for m in state["messages"]
        ]

    recorded, replays = record_and_replay(cassette, run, servers)
    kinds = [kind for kind, *_ in recorded]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert "espresso machine" in str(recorded[2][1])
    assert "Order A-1001 is shipped." in str(recorded[3][1])
    assert replays == [recorded] * len(replays)
    steps = model_steps(cassette, stream=stream, calls=2)
    # A local server decodes as OpenAI-compatible: only api.openai.com is OpenAI itself.
    assert all(step.llm and step.llm.provider.startswith(provider) for step in steps)
    tool_steps(cassette)


def test_langsmith_tracing_is_neither_a_step_nor_a_divergence(
    servers: Servers, cassette: Path, langsmith: ToolServer
) -> None:
    """With a LangSmith key set, traces go out from LangSmith's own thread: while
    recording they reach the (local) endpoint but are no steps; on replay that thread
    is not the run's, and the run reproduces."""
    agent_module = example("langgraph_agent")

    def run() -> str:
        answer = str(agent_module.main(QUESTION))
        langsmith_client().flush()
        return answer

    recorded, replays = record_and_replay(cassette, run, servers)
    assert langsmith.count() > 0  # the traces really went out while recording
    assert replays == [recorded] * len(replays) == ["Order A-1001 is shipped."] * 2
    urls = [step.url or "" for step in all_steps(cassette)]
    assert not [url for url in urls if url.startswith(langsmith.url)]
    assert len(model_steps(cassette, stream=False, calls=2)) == 2
