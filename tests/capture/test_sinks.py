"""An S3 sink, against a real local S3 API server (moto in server mode)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentreplay import capture
from agentreplay.demo.model_server import ModelServer
from tests.capture.agent import AgentFailed, run_agent
from tests.capture.conftest import REPO, replay
from tests.s3 import moto_s3
from tests.servers import ToolServer

SECRET = "moto-secret-never-in-a-cassette"


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """moto's S3 server on 127.0.0.1, and the standard AWS variables pointing at it."""
    env = {"AGENTREPLAY_ENV": "MODEL_URL,TOOL_URL"}
    with moto_s3(monkeypatch, tmp_path / "cache", "captures", SECRET, env) as process:
        yield process


def _run(numbers: range) -> list[str]:
    outcomes = []
    for n in numbers:
        try:
            outcomes.append(run_agent(n)["answer"])
        except AgentFailed as exc:
            outcomes.append(str(exc))
    return outcomes


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentreplay", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def test_an_s3_sink_is_written_listed_shown_and_replayed_and_survives_the_store_stopping(
    s3_server: subprocess.Popen[bytes],
    agent_env: dict[str, str],
    model_server: ModelServer,
    tool_server: ToolServer,
) -> None:
    capture.enable("s3://captures/prod/")
    assert _run(range(1, 11))[4] == "I refuse to answer question 5"
    assert capture.flush(30)
    assert capture.stats().written == 2

    listed = _cli("ls", "s3://captures/prod", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [row["name"] for row in rows] == ["run_agent"] * 2
    assert [row["location"].startswith("s3://captures/prod/") for row in rows] == [True, True]
    assert rows[0]["start_ns"] > rows[1]["start_ns"]  # newest first
    assert all(row["replay"] == f"agentreplay replay {row['location']}" for row in rows)
    assert _cli("ls", "s3://captures/prod", "--failed").stdout.count("AgentFailed") == 2

    shown = _cli("show", rows[0]["location"])
    assert shown.returncode == 0 and "AgentFailed('I refuse to answer question 10')" in shown.stdout
    key = rows[0]["location"].removeprefix("s3://")
    downloaded = Path(os.environ["XDG_CACHE_HOME"]) / "agentreplay" / "s3" / key
    assert SECRET.encode() not in downloaded.read_bytes()  # credentials are never kept

    # The store goes away: the agent goes on as before, the lost runs are counted.
    s3_server.terminate()
    s3_server.wait(10)
    assert _run(range(11, 21))[4] == "I refuse to answer question 15"
    capture.flush(60)
    stats = capture.stats()
    assert stats.written == 2 and stats.write_errors == 2
    assert stats.dropped.get("write_error") == 2 and stats.kept == {"error": 4}

    model_server.stop()
    tool_server.stop()
    replayed = replay(rows[0]["location"])
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "reproduced: AgentFailed('I refuse to answer question 10')" in replayed.stdout
