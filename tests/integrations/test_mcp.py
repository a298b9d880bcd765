"""MCP tools through the ``mcp`` client SDK: a local stdio server (a subprocess, not
started on replay) and a local streamable-HTTP server, both written with ``mcp``."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import (
    EXAMPLES,
    Servers,
    all_steps,
    example,
    model_steps,
    record_and_replay,
    replay,
)

QUESTION = "Where is my order A-1001?"
# What the order server logs and reports while it looks the order up, as the agent's
# logging callback, progress callback and message handler saw it, in that order.
NOTES = [
    "info: looking up A-1001",
    "order found (1 of 2)",
    "progress 1/2",
    "status read (2 of 2)",
    "progress 2/2",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[bytes]]:
    """The order server over streamable HTTP, in a process of its own."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "mcp_order_server.py"), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.1)
    monkeypatch.setenv("ORDERS_MCP_URL", f"http://127.0.0.1:{port}/mcp")
    try:
        yield server
    finally:
        server.kill()
        server.wait()


def _mcp_steps(path: Path) -> list[Any]:
    steps = [step for step in all_steps(path) if step.kind == "tool"]
    assert [step.name for step in steps] == [
        "mcp: initialize",
        "mcp orders: tools/list",
        "mcp orders: lookup_order",
    ]
    call = steps[-1]
    assert call.args == [{"order_id": "A-1001"}]
    assert "espresso machine" in str(call.value["result"]) and call.duration is not None
    heard = call.value["notifications"]
    assert [note["method"] for note in heard] == [
        "notifications/message",
        "notifications/progress",
        "notifications/progress",
    ]
    return steps


def _asking(agent_module: Any, stream: bool = False) -> Callable[[], tuple[list[Any], list[str]]]:
    """The agent's conversation and the notes it took of the server's notifications."""

    def run() -> tuple[list[Any], list[str]]:
        notes: list[str] = []
        return asyncio.run(agent_module.ask(QUESTION, stream, notes)), notes

    return run


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_mcp_stdio_tool_replays_without_starting_the_server(
    servers: Servers, cassette: Path, stream: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_module = example("mcp_agent")
    started: list[Any] = []
    real_popen = subprocess.Popen.__init__

    run = _asking(agent_module, stream)
    recorded, _ = record_and_replay(cassette, run, servers, times=0)

    def popen(self: Any, *args: Any, **kwargs: Any) -> None:
        started.append(args)
        real_popen(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", popen)
    replays = replay(cassette, run)
    messages, notes = recorded
    assert messages[-1]["content"] == "Order A-1001 is shipped."
    assert "espresso machine" in messages[3]["content"]
    assert notes == NOTES
    assert replays == [recorded] * 2  # the server's notifications came from the cassette
    assert started == []  # the server process was never started on replay
    model_steps(cassette, stream=stream, calls=2)
    _mcp_steps(cassette)


def test_an_mcp_tool_error_replays_with_the_notifications_sent_before_it(
    servers: Servers, cassette: Path
) -> None:
    servers.script.order = "B-2001"
    run = _asking(example("mcp_agent"))
    recorded, replays = record_and_replay(cassette, run, servers)
    messages, notes = recorded
    assert "no order B-2001" in messages[3]["content"]
    assert messages[-1]["content"] == "Order B-2001 is unknown."
    assert notes == ["info: looking up B-2001", "no such order (1 of 2)", "progress 1/2"]
    assert replays == [recorded] * 2


def test_an_mcp_streamable_http_tool_replays_offline(
    servers: Servers, cassette: Path, http_server: subprocess.Popen[bytes]
) -> None:
    run = _asking(example("mcp_agent"))

    def stop() -> None:
        servers.stop()
        http_server.kill()
        http_server.wait()

    recorded, replays = record_and_replay(cassette, run, _Stopper(stop))
    messages, notes = recorded
    assert messages[-1]["content"] == "Order A-1001 is shipped."
    assert notes == NOTES
    assert replays == [recorded] * 2
    model_steps(cassette, stream=False, calls=2)
    _mcp_steps(cassette)
    assert not [step for step in all_steps(cassette) if "/mcp" in (step.url or "")]


class _Stopper:
    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop

    def stop(self) -> None:
        self._stop()
