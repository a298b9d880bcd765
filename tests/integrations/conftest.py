"""Each example agent under examples/, run against local servers that speak the provider's
real wire format: recorded, every server stopped, replayed twice offline.

`record_and_replay` is the whole check: the replays return what the recording returned
(the agent's answer and its transcript: every model answer and tool result it saw), the
run reproduces, and the cassette decodes into model-call steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from langsmith import run_trees
from langsmith import utils as langsmith_utils

import agentreplay
from agentreplay.demo.model_server import ModelRequest, ModelServer, Reply, ToolCallSpec
from agentreplay.demo.tool_server import ToolServer
from agentreplay.steps import Step
from tests.integrations import crewai_env
from tests.servers import ToolServer as TraceServer

T = TypeVar("T")

# LiteLLM fetches its price table from the internet when imported, unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REPLAYS = 2
_TOOL_RESULT_MARKS = (
    '"role": "tool"',
    '"tool_result"',
    '"function_call_output"',
    '"toolResult"',
    r"Observation:\n{\"order",  # smolagents: the tool's answer in a user message
)


_builds: list[subprocess.Popen[bytes]] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building CrewAI's environment (crewai_env.py) in the background as soon as
    its test is collected, so the build overlaps the tests that run before it."""
    if any(item.path.name == "test_crewai.py" for item in session.items):
        build = crewai_env.start_building(crewai_env.cache_dir(session.config))
        if build is not None:
            _builds.append(build)


def pytest_unconfigure(config: pytest.Config) -> None:
    for build in _builds:  # the other worker's test may still be waiting for it
        build.wait(timeout=900)


@dataclass
class SupportModel:
    """The model asks for ``lookup_order`` once, then answers from what the tool said."""

    order: str = "A-1001"
    requests: list[ModelRequest] = field(default_factory=list)

    def __call__(self, request: ModelRequest) -> Reply:
        self.requests.append(request)
        sent = json.dumps(request.body)
        if not any(mark in sent for mark in _TOOL_RESULT_MARKS):
            return Reply(tool_calls=[ToolCallSpec("lookup_order", {"order_id": self.order})])
        status = "shipped" if "shipped" in sent else "unknown"
        answer = f"Order {self.order} is {status}."
        if '"final_answer"' in json.dumps(request.body.get("tools", [])):
            return Reply(tool_calls=[ToolCallSpec("final_answer", {"answer": answer})])
        return Reply(text=answer)


@contextlib.contextmanager
def closed_current_loop() -> Iterator[None]:
    """Give the main thread a current event loop, and close it afterwards.

    LiteLLM's service logger asks ``asyncio.get_event_loop()`` for a loop from
    synchronous code: with none set, asyncio makes one and keeps it as the thread's
    current loop, unclosed, until the next ``asyncio.run`` drops it and the
    garbage collector warns about it in whichever test runs then (once, inside a
    ``compile`` of the AST, where Python 3.11 turned the warning into a SystemError).
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _litellm_clients() -> Any:
    litellm = sys.modules.get("litellm")
    return getattr(litellm, "in_memory_llm_clients_cache", None)


def close_litellm_clients() -> None:
    """Close the SDK clients LiteLLM keeps in its cache (it closes only those it evicts,
    after a while): their keep-alive sockets would otherwise be collected, unclosed,
    in a later test. Async ones are closed by `aclose_litellm_clients`."""
    cache = _litellm_clients()
    if cache is None:
        return
    for client in list(cache.cache_dict.values()):
        close = getattr(client, "close", None)
        if callable(close) and not inspect.iscoroutinefunction(close):
            close()
    cache.flush_cache()


async def aclose_litellm_clients() -> None:
    """Close LiteLLM's cached async clients, on the event loop their connections belong to."""
    cache = _litellm_clients()
    if cache is None:
        return
    for client in list(cache.cache_dict.values()):
        close = getattr(client, "close", None)
        if inspect.iscoroutinefunction(close):
            await close()
    cache.flush_cache()


@pytest.fixture(autouse=True)
def _current_loop() -> Iterator[None]:
    with closed_current_loop():
        yield
    close_litellm_clients()


@dataclass
class Servers:
    model: ModelServer
    tools: ToolServer
    script: SupportModel
    running: bool = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.model.stop()
            self.tools.stop()


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    """The demo's servers, with the environment the examples read pointed at them."""
    script = SupportModel()
    model = ModelServer(script, chunk_delay=0.005).start()
    tools = ToolServer().start()
    for name, value in {
        "OPENAI_BASE_URL": f"{model.url}/v1",
        "OPENAI_API_KEY": "sk-example",
        "ANTHROPIC_BASE_URL": model.url,
        "ANTHROPIC_API_KEY": "sk-ant-example",
        "SUPPORT_TOOLS_URL": tools.url,
    }.items():
        monkeypatch.setenv(name, value)
    running = Servers(model, tools, script)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def langsmith(monkeypatch: pytest.MonkeyPatch) -> Iterator[TraceServer]:
    """LangSmith tracing on, to a local endpoint; its cached settings and client are
    forgotten afterwards, so that later tests do not trace."""
    traces = TraceServer().start()
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2-example")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", traces.url)
    try:
        yield traces
    finally:
        if run_trees._CLIENT is not None:  # its pooled connections, closed now
            run_trees._CLIENT.close(timeout=5)
        traces.stop()
        langsmith_utils.get_env_var.cache_clear()  # type: ignore[attr-defined]
        run_trees._CLIENT = None


def example(name: str) -> Any:
    """Import ``examples/<name>.py`` afresh."""
    sys.modules.pop(name, None)
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


class Stoppable(Protocol):
    def stop(self) -> None: ...


def record_and_replay(
    path: Path, agent: Callable[[], T], servers: Stoppable, times: int = REPLAYS
) -> tuple[T, list[T]]:
    """Record ``agent``, stop every server, replay it strictly ``times`` times; every
    replay must reproduce the recorded outcome."""
    with agentreplay.record(path):
        recorded = agent()
    servers.stop()
    return recorded, replay(path, agent, times)


def replay(path: Path, agent: Callable[[], T], times: int = REPLAYS) -> list[T]:
    """Replay ``agent`` strictly ``times`` times; each must reproduce its recording."""
    replayed = []
    for _ in range(times):
        with agentreplay.replay(path) as run:
            replayed.append(agent())
        assert run.result is not None and run.result.reproduced, run.result
    return replayed


def all_steps(path: Path) -> list[Step]:
    with agentreplay.open(path) as cassette:
        return list(cassette.steps())


def model_steps(path: Path, *, stream: bool, calls: int, tokens: bool = True) -> list[Step]:
    """The cassette's model-call steps, checked to decode as ``show`` shows them; without
    ``tokens`` when the client did not ask for token counts (a stream without usage)."""
    steps = [step for step in all_steps(path) if step.kind == "llm"]
    assert len(steps) == calls, [step.label for step in steps]
    for step in steps:
        assert step.llm is not None and step.status == "ok"
        assert step.llm.model, step
        assert step.llm.stream is stream
        if tokens:
            assert step.llm.input_tokens and step.llm.output_tokens, step.llm
        else:
            assert step.llm.input_tokens is step.llm.output_tokens is None, step.llm
        if stream:
            assert step.llm.ttft is not None and step.llm.ttft > 0
    return steps


def tool_steps(path: Path) -> list[Step]:
    """The cassette's calls to the demo's order tool, each answered 200."""
    steps = [s for s in all_steps(path) if s.kind == "http" and s.url]
    tools = [s for s in steps if "/lookup_order" in (s.url or "")]
    assert tools and all(s.http_status == 200 for s in tools), [s.url for s in steps]
    return tools
