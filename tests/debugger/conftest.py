"""A model server and a tool server for the example support agent, run as a real script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer
from agentreplay.llm.encode import ModelRequest, Reply, ToolCallSpec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_agent.py"


@dataclass
class Scripted:
    """The model looks up ``order`` with ``tool``, then answers in text."""

    tool: str = "lookup_order"
    order: str = "A-1001"
    calls: list[ModelRequest] = field(default_factory=list)

    def __call__(self, request: ModelRequest) -> Reply:
        self.calls.append(request)
        if not any(m.get("role") == "tool" for m in request.body.get("messages", [])):
            return Reply(tool_calls=[ToolCallSpec(self.tool, {"order_id": self.order})])
        return Reply(text=f"Order {self.order} is on its way.")


@dataclass
class Servers:
    model: ModelServer
    tools: ToolServer
    script: Scripted
    env: dict[str, str]
    running: bool = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.model.stop()
            self.tools.stop()


@pytest.fixture
def servers() -> Iterator[Servers]:
    script = Scripted()
    model = ModelServer(script, chunk_delay=0.01).start()
    tools = ToolServer().start()
    env = {
        **os.environ,
        "OPENAI_BASE_URL": f"{model.url}/v1",
        "SUPPORT_TOOLS_URL": tools.url,
        "OPENAI_API_KEY": "sk-test-key",
    }
    env.pop("AGENTREPLAY_MODE", None)
    found = Servers(model, tools, script, env)
    try:
        yield found
    finally:
        found.stop()


def agentreplay_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentreplay", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def record_script(tmp_path: Path, source: str, *args: str) -> tuple[Path, str]:
    """Write ``source`` as tmp_path/agent.py and record ``python agent.py ARGS`` into
    tmp_path/run.cassette with ``agentreplay record``: the cassette and what it printed."""
    script = tmp_path / "agent.py"
    script.write_text(source)
    cassette = tmp_path / "run.cassette"
    recorded = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, str(script), *args, cwd=tmp_path
    )
    assert recorded.returncode == 0, recorded.stderr
    return cassette, recorded.stdout


def record_example(
    servers: Servers, cassette: Path, question: str = "Where is my order?", script: Path = EXAMPLE
) -> subprocess.CompletedProcess[str]:
    return agentreplay_cli(
        "record",
        "-o",
        str(cassette),
        "--env",
        "OPENAI_BASE_URL",
        "--env",
        "SUPPORT_TOOLS_URL",
        "--",
        sys.executable,
        str(script),
        question,
        env=servers.env,
    )


def header(cassette: Path) -> dict[str, Any]:
    import agentreplay

    with agentreplay.open(cassette) as opened:
        return dict(opened.header)
