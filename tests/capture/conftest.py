from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentreplay import capture
from agentreplay.demo.model_server import ModelServer
from tests.capture.agent import responder
from tests.servers import ToolServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    server = ModelServer(responder).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tool_server() -> Iterator[ToolServer]:
    server = ToolServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def agent_env(
    model_server: ModelServer, tool_server: ToolServer, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The servers' addresses, in the environment the agent reads them from."""
    env = {"MODEL_URL": model_server.url, "TOOL_URL": tool_server.url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture(autouse=True)
def capture_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with capture off, and leaves it off."""
    monkeypatch.delenv("AGENTREPLAY_CAPTURE", raising=False)
    yield
    capture.disable(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn_app(app: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a subprocess on 127.0.0.1; stopped (SIGINT, so the
    lifespan's shutdown runs) at the end. Yields the base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--limit-concurrency", "200"]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(2)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def replay(cassette: Path | str) -> subprocess.CompletedProcess[str]:
    """``agentreplay replay FILE`` in a subprocess, with the servers stopped."""
    return subprocess.run(
        [sys.executable, "-m", "agentreplay", "replay", str(cassette)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
