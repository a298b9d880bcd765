"""A generated test project for pytester: a local HTTP server and a port-blind cassette.

The server runs on 127.0.0.1 in a thread of the generated run, on a new port
each run; the generated conftest's ``pytest_agentreplay_configure`` hook adds
a redaction that writes the port as ``PORT``, so a cassette recorded in one
run matches the requests of the next. Runs skip the hypothesis plugin, whose
terminal summary imports all of hypothesis (0.6 s a run), and pytest-benchmark,
which warns (an error here) when xdist is active.

In-process runs drop the modules they imported first; the plugin, loaded by
the outer run, would then hold other copies of agentreplay's modules than the
generated tests import (httpx, for one, would map the errors of a dropped
httpcore). So every module a generated test imports is imported here first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpcore  # noqa: F401 - httpx imports it lazily; see the module docstring
import httpx  # noqa: F401 - imported once here, not again by every in-process run
import pytest

import agentreplay
import agentreplay.runtime.tasks

CONFTEST = """
import dataclasses
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agentreplay import Redaction


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.hits.append(self.path)
        data = json.dumps({"path": self.path, "echo": json.loads(body or b"null")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="session")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.hits = []
    srv.url = f"http://127.0.0.1:{srv.server_port}"
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def _no_port(info):
    return dataclasses.replace(info, url=re.sub(r"//127\\.0\\.0\\.1:\\d+", "//127.0.0.1:PORT",
                                                info.url))


def pytest_agentreplay_configure(config, settings):
    settings.redactions.append(Redaction(hooks=[_no_port]))
"""

INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark
filterwarnings = error
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""

ASK = """
import httpx
import pytest


def ask(server, question, path="/ask"):
    return httpx.post(server.url + path, json={"messages": [{"role": "user",
                                                            "content": question}]}).json()
"""
"""Module prelude: ``ask(server, question)`` posts a chat-like body to the server."""


def make_project(pytester: pytest.Pytester, ini: str = "") -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI + ini)


def cassettes(pytester: pytest.Pytester) -> list[str]:
    """Every file under the project whose name contains ``.cassette``, relative, sorted."""
    root = Path(pytester.path)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.cassette*"))


def header(path: Path) -> dict[str, Any]:
    with agentreplay.open(path) as cassette:
        return dict(cassette.header)


def outcome_error(path: Path) -> str | None:
    with agentreplay.open(path) as cassette:
        outcome = cassette.outcome
    assert outcome is not None
    return None if outcome.error is None else outcome.error.type


def summary(result: pytest.RunResult) -> list[str]:
    """The lines of the ``agentreplay`` section at the end of a run."""
    lines = result.outlines
    try:
        start = next(
            i for i, line in enumerate(lines) if line.startswith("=") and " agentreplay " in line
        )
    except StopIteration:
        return []
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("=")), len(lines))
    return lines[start + 1 : end]
