"""One run per HTTP request: a Starlette app served by uvicorn, 50 requests at once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from agentreplay.capture.core import sampled
from agentreplay.demo.model_server import ModelServer
from tests.capture.agent import FAIL_EVERY
from tests.capture.conftest import replay, uvicorn_app
from tests.capture.helpers import manifest, question_of, steps
from tests.servers import ToolServer

REQUESTS = 50
SAMPLE = 0.2


async def _ask_all(base: str, numbers: range) -> dict[int, int]:
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(n: int) -> tuple[int, int]:
            response = await client.post(f"{base}/ask/{n}")
            return n, response.status_code

        return dict(await asyncio.gather(*(one(n) for n in numbers)))


def test_fifty_concurrent_requests_keep_each_failure_alone_and_replay_offline(
    tmp_path: Path,
    agent_env: dict[str, str],
    model_server: ModelServer,
    tool_server: ToolServer,
) -> None:
    sink = tmp_path / "runs"
    env = {
        **agent_env,
        "CAPTURE_SINK": str(sink),
        "CAPTURE_SAMPLE": str(SAMPLE),
        "AGENTREPLAY_ENV": "MODEL_URL,TOOL_URL",
    }
    with uvicorn_app("tests.capture.app:app", env, tmp_path / "server.log") as base:
        statuses = asyncio.run(_ask_all(base, range(1, REQUESTS + 1)))
    failed = {n for n in statuses if n % FAIL_EVERY == 0}
    log = (tmp_path / "server.log").read_text()
    assert {n for n, status in statuses.items() if status == 500} == failed, log
    assert {n for n, status in statuses.items() if status == 200} == set(statuses) - failed

    # The readiness probe (GET /, a 404) is a request too: sampled like any other.
    entries = [e for e in manifest(sink) if e["metadata"]["path"].startswith("/ask/")]
    by_n = {int(e["metadata"]["path"].rsplit("/", 1)[1]): e for e in entries}
    assert len(by_n) == len(entries)
    assert failed <= set(by_n)
    for n, entry in by_n.items():
        if n in failed:
            assert entry["kept"] == "error"
            # Raised through the middleware: the server's error handler answers the 500.
            assert entry["status"] is None and entry["error"] == "tests.capture.agent.AgentFailed"
        else:  # kept only because the sample took it
            assert entry["kept"] == "sample" and sampled(entry["run_id"], SAMPLE)
        assert entry["metadata"]["route"] == "/ask/{n:int}"
        cassette = sink / entry["key"]
        assert question_of(cassette) == {n}, f"{cassette} holds another request's steps"
        assert steps(cassette) == ["llm", "http", "llm"]

    model_server.stop()
    tool_server.stop()
    some = [by_n[n] for n in sorted(by_n)][:8]
    for entry in some:
        result = replay(sink / entry["key"])
        assert result.returncode == 0, result.stdout + result.stderr
        expected = "AgentFailed" if entry["error"] else "HTTP 200"
        assert "reproduced" in result.stdout and expected in result.stdout


@pytest.mark.parametrize("keep", ["errors"])
def test_a_flagged_request_is_kept_although_it_answered_200(
    tmp_path: Path, agent_env: dict[str, str], keep: str
) -> None:
    sink = tmp_path / "runs"
    env = {**agent_env, "CAPTURE_SINK": str(sink), "CAPTURE_KEEP": keep}
    with uvicorn_app("tests.capture.app:app", env, tmp_path / "server.log") as base:
        assert httpx.post(f"{base}/ask/1?flag=1", timeout=30).status_code == 200
        assert httpx.post(f"{base}/ask/2", timeout=30).status_code == 200
    entries = manifest(sink)
    assert [(e["kept"], e["flags"], e["status"]) for e in entries] == [
        ("flagged", ["asked to"], 200)
    ]
    header_request = json.loads(json.dumps(entries[0]["metadata"]))
    assert header_request["path"] == "/ask/1"
