"""Regression cassettes for examples/: recorded once against the local servers, replayed
offline ever after (cassettes/examples/ in the repository).

Re-record them with ``pytest tests/test_examples.py --agentreplay-mode=rewrite``; the
servers start only when a test records.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentreplay import Mode
from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer
from agentreplay.regression import AgentCassette
from tests.debugger.conftest import Scripted

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CASSETTES = "../cassettes/examples"
# Fixed ports: the recorded requests name them, and replay must ask for the same URLs.
MODEL_PORT, TOOLS_PORT = 18765, 18766


@pytest.fixture
def support_agent(
    agent_cassette: AgentCassette, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Any]:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{MODEL_PORT}/v1")
    monkeypatch.setenv("SUPPORT_TOOLS_URL", f"http://127.0.0.1:{TOOLS_PORT}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-example")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    module = __import__("support_agent")
    servers: list[Any] = []
    if agent_cassette.mode is Mode.RECORD:
        script = Scripted(order=getattr(request, "param", "A-1001"))
        servers = [
            ModelServer(script, port=MODEL_PORT, chunk_delay=0.01).start(),
            ToolServer(port=TOOLS_PORT).start(),
        ]
    try:
        yield module
    finally:
        for server in servers:
            server.stop()
        sys.modules.pop("support_agent", None)


@pytest.mark.agentreplay(path=f"{CASSETTES}/answers_an_order_question.cassette")
@pytest.mark.parametrize("support_agent", ["A-1001"], indirect=True)
def test_support_agent_answers_an_order_question(support_agent: Any) -> None:
    assert support_agent.main("Where is my order?") == "Order A-1001 is on its way."


@pytest.mark.agentreplay(path=f"{CASSETTES}/unknown_order.cassette")
@pytest.mark.parametrize("support_agent", ["B-2001"], indirect=True)
def test_support_agent_fails_on_an_unknown_order(support_agent: Any) -> None:
    with pytest.raises(KeyError, match="order"):
        support_agent.main("Where is my order B-2001?")


# One agent per stack (docs/integrations.md), each against the same local servers.
STACKS: dict[str, dict[str, Any]] = {
    "pydantic_ai_agent": {"stream": True},
    "langgraph_agent": {"provider": "anthropic", "stream": True},
    "openai_agents_agent": {},
    "litellm_agent": {"stream": True},
    "llamaindex_agent": {"stream": False},
    "smolagents_agent": {},
    "mcp_agent": {"stream": True},  # its MCP server, over stdio, is started only to record
}


@pytest.fixture
def stack_agent(
    agent_cassette: AgentCassette, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Any]:
    from tests.integrations.conftest import (
        SupportModel,
        close_litellm_clients,
        closed_current_loop,
    )

    name: str = request.param
    for variable, value in {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{MODEL_PORT}/v1",
        "OPENAI_API_KEY": "sk-example",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{MODEL_PORT}",
        "ANTHROPIC_API_KEY": "sk-ant-example",
        "SUPPORT_TOOLS_URL": f"http://127.0.0.1:{TOOLS_PORT}",
        "OPENAI_AGENTS_DISABLE_TRACING": "1",  # the SDK's traces would go to OpenAI
    }.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    module = __import__(name)
    servers: list[Any] = []
    if agent_cassette.mode is Mode.RECORD:
        servers = [
            ModelServer(SupportModel(), port=MODEL_PORT, chunk_delay=0.01).start(),
            ToolServer(port=TOOLS_PORT).start(),
        ]
    try:
        with closed_current_loop():
            yield module
        close_litellm_clients()
    finally:
        for server in servers:
            server.stop()
        sys.modules.pop(name, None)


@pytest.mark.filterwarnings("ignore:Item .* `ReadOnly` qualifier:UserWarning")
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
@pytest.mark.parametrize(
    "stack_agent",
    [
        pytest.param(name, marks=pytest.mark.agentreplay(path=f"{CASSETTES}/{name}.cassette"))
        for name in STACKS
    ],
    indirect=True,
)
def test_each_stack_example_answers_from_its_regression_cassette(stack_agent: Any) -> None:
    options = STACKS[stack_agent.__name__]
    assert stack_agent.main("Where is my order A-1001?", **options) == "Order A-1001 is shipped."
