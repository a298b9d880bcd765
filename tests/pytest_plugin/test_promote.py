"""``agentreplay promote``: a recorded failure becomes a regression test that passes as
written, and fails with a readable diff once the agent's prompt changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import agentreplay
from agentreplay.cli.demo_run import support_responder
from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _record_a_failure(agent_dir: Path) -> Path:
    model = ModelServer(support_responder(seed=3)).start()
    tools = ToolServer().start()
    runs = agent_dir / "runs"
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(agent_dir)
            patch.syspath_prepend(str(agent_dir))
            patch.setenv("OPENAI_BASE_URL", f"{model.url}/v1")
            patch.setenv("SUPPORT_TOOLS_URL", tools.url)
            patch.setenv("OPENAI_API_KEY", "sk-test")
            patch.setenv("AGENTREPLAY_MODE", "record")
            patch.setenv("AGENTREPLAY_CASSETTE", str(runs / "{run_id}.cassette"))
            patch.setenv("AGENTREPLAY_ENV", "OPENAI_BASE_URL,SUPPORT_TOOLS_URL")
            agent: Any = __import__("support_agent")
            try:
                for _ in range(30):
                    try:
                        agent.main("Where is my order?")
                    except KeyError:
                        break
                else:
                    raise AssertionError("the agent never failed")
            finally:
                sys.modules.pop("support_agent", None)
    finally:
        model.stop()
        tools.stop()
    newest = max(runs.glob("*.cassette"), key=lambda p: p.stat().st_mtime)
    with agentreplay.open(newest) as cassette:
        assert cassette.outcome is not None and cassette.outcome.error is not None
    return newest


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTREPLAY_", "OPENAI"))}
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_promoted_failure_passes_then_fails_with_a_diff_when_the_prompt_changes(
    tmp_path: Path,
) -> None:
    shutil.copy(EXAMPLES / "support_agent.py", tmp_path)
    failure = _record_a_failure(tmp_path)

    done = _run("-m", "agentreplay", "promote", str(failure), "--to", "tests", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (test_file,) = (tmp_path / "tests").glob("test_promoted_*.py")
    text = test_file.read_text()
    assert "from support_agent import main" in text and "KeyError" in text
    copies = list((tmp_path / "tests" / "cassettes").rglob("*.cassette"))
    assert len(copies) == 1 and copies[0].read_bytes() == failure.read_bytes()

    passed = _run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        str(test_file),
        cwd=tmp_path,
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout

    agent = tmp_path / "support_agent.py"
    agent.write_text(agent.read_text().replace("Use the tools to answer.", "Be brief."))
    failed = _run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        str(test_file),
        cwd=tmp_path,
    )
    assert failed.returncode == 1
    assert "replay diverged at step 1" in failed.stdout
    assert "Be brief." in failed.stdout and "Use the tools to answer." in failed.stdout
