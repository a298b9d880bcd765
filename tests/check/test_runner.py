"""One cassette's verdict when the replay cannot start, runs past its time limit, or
there is nothing to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import agentreplay
from agentreplay.check import CheckOptions, Verdict
from agentreplay.check.runner import check_one
from agentreplay.demo.tool_server import ToolServer

AGENT = """\
import sys

import httpx

import agentreplay


@agentreplay.entrypoint
def main(tools: str, order_id: str) -> str:
    with httpx.Client(base_url=tools) as client:
        reply = client.get("/lookup_order", params={"order_id": order_id})
    return str(reply.json()["status"])


if __name__ == "__main__":
    print(main(sys.argv[1], "A-1001"))
"""


def _record(folder: Path) -> tuple[Path, Path]:
    """(the agent's file, the cassette of one run of it)."""
    agent = folder / "lookup_agent.py"
    agent.write_text(AGENT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREPLAY_")}
    env.update(AGENTREPLAY_MODE="record", AGENTREPLAY_CASSETTE="run.cassette")
    tools = ToolServer().start()
    try:
        subprocess.run(
            [sys.executable, agent.name, tools.url],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        tools.stop()
    return agent, folder / "run.cassette"


def test_a_run_whose_script_is_gone_is_an_error_that_says_so(tmp_path: Path) -> None:
    agent, cassette = _record(tmp_path)
    assert check_one(cassette, CheckOptions()).verdict is Verdict.REPRODUCED
    agent.unlink()
    result = check_one(cassette, CheckOptions())
    assert result.verdict is Verdict.ERROR and not result.as_expected
    assert result.detail.startswith(f"the entrypoint's script {agent} no longer exists")


def test_a_replay_that_never_ends_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    agent, cassette = _record(tmp_path)
    agent.write_text(
        AGENT.replace("    return str(", "    while True:\n        pass\n    return str(")
    )
    result = check_one(cassette, CheckOptions(timeout=3))
    assert result.verdict is Verdict.ERROR and result.detail == "timed out after 3 s"


def test_a_run_recorded_around_code_is_skipped(tmp_path: Path) -> None:
    cassette = tmp_path / "around.cassette"
    with agentreplay.record(cassette):
        pass
    result = check_one(cassette, CheckOptions())
    assert result.verdict is Verdict.SKIPPED and result.as_expected
    assert result.detail == "recorded around code agentreplay cannot start by itself"
