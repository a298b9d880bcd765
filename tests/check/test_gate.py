"""``agentreplay check`` over a corpus of recorded runs: unchanged code, a changed
prompt, a fixed bug; JUnit XML; shards."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import agentreplay
from agentreplay.check import find_cassettes, shard
from agentreplay.cli.demo_run import support_responder
from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUNS = 22
BUG = 'order = result["order"]'
FIX = 'order = result.get("order", "unknown")'


def _record_corpus(agent_dir: Path, corpus: Path) -> None:
    """Record RUNS calls of the support agent's @entrypoint, each into its own cassette."""
    model = ModelServer(support_responder(seed=11)).start()
    tools = ToolServer().start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(agent_dir)
            patch.syspath_prepend(str(agent_dir))
            patch.setenv("OPENAI_BASE_URL", f"{model.url}/v1")
            patch.setenv("SUPPORT_TOOLS_URL", tools.url)
            patch.setenv("OPENAI_API_KEY", "sk-test")
            patch.setenv("AGENTREPLAY_MODE", "record")
            patch.setenv("AGENTREPLAY_CASSETTE", str(corpus / "{timestamp}-{run_id}.cassette"))
            patch.setenv("AGENTREPLAY_ENV", "OPENAI_BASE_URL,SUPPORT_TOOLS_URL")
            agent: Any = __import__("support_agent")
            try:
                for _ in range(RUNS):
                    with contextlib.suppress(KeyError):  # the agent's bug, recorded
                        agent.main("Where is my order?")
            finally:
                sys.modules.pop("support_agent", None)
    finally:
        model.stop()
        tools.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the agent's folder, the folder of its recorded runs)."""
    agent_dir = tmp_path_factory.mktemp("agent")
    shutil.copy(EXAMPLES / "support_agent.py", agent_dir)
    corpus = tmp_path_factory.mktemp("corpus")
    _record_corpus(agent_dir, corpus)
    yield agent_dir, corpus


def _check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTREPLAY_", "OPENAI"))}
    return subprocess.run(
        [sys.executable, "-m", "agentreplay", "check", "-j", "2", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _failed(cassette: Path) -> bool:
    with agentreplay.open(cassette) as opened:
        outcome = opened.outcome
    return outcome is not None and outcome.error is not None


def test_a_change_is_checked_against_every_recorded_run(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    agent_dir, runs = corpus
    cassettes = find_cassettes([str(runs)])
    failing = [c for c in cassettes if _failed(c)]
    assert len(cassettes) == RUNS and 0 < len(failing) < RUNS

    # The code as recorded: every run reproduces, failures included.
    report = tmp_path / "junit.xml"
    done = _check(str(runs), "--junit", str(report), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout)["results"]
    assert {r["verdict"] for r in results} == {"reproduced"}
    suite = ElementTree.parse(report).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == RUNS

    # A changed prompt: every run diverges at its first model call, and says where.
    source = agent_dir / "support_agent.py"
    original = source.read_text()
    source.write_text(original.replace("Use the tools to answer.", "Use the tools, briefly."))
    done = _check(str(runs), "--json", "--junit", str(report), cwd=tmp_path)
    assert done.returncode == 1
    results = json.loads(done.stdout)["results"]
    assert {r["verdict"] for r in results} == {"diverged"}
    assert all("diverged at step 1" in r["detail"] for r in results)
    assert all("briefly" in r["message"] for r in results)
    suite = ElementTree.parse(report).getroot()
    assert suite.get("failures") == str(RUNS)
    assert all(case.find("failure") is not None for case in suite.findall("testcase"))

    # The bug fixed, the failing runs marked as expected fixed.
    source.write_text(original.replace(BUG, FIX))
    marked = subprocess.run(
        [sys.executable, "-m", "agentreplay", "mark", *map(str, failing), "--expect", "fixed"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert marked.stdout.count(": expect fixed (kept in ") == len(failing)
    done = _check(str(runs), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = {Path(r["path"]).name: r["verdict"] for r in json.loads(done.stdout)["results"]}
    assert {verdicts[c.name] for c in failing} == {"fixed"}
    assert {verdicts[c.name] for c in cassettes if c not in failing} == {"reproduced"}
    summary = json.loads(done.stdout)["summary"]
    assert summary == (
        f"this change fixes {len(failing)} of {len(failing)} captured failures and "
        f"changes 0 of {RUNS - len(failing)} successful runs"
    )


def test_shards_cover_every_cassette_exactly_once(corpus: tuple[Path, Path]) -> None:
    _, runs = corpus
    cassettes = find_cassettes([str(runs / "*.cassette")])
    shards = [shard(cassettes, f"{i}/3") for i in (1, 2, 3)]
    assert sorted(c for part in shards for c in part) == sorted(cassettes)
    assert all(shards)  # 22 names: every shard has some
    assert shard(list(reversed(cassettes)), "2/3") == list(reversed(shards[1]))


def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _check(str(tmp_path / "nowhere"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"agentreplay: error: no such file or folder: {tmp_path / 'nowhere'}"
    ]
    done = _check(str(tmp_path), "--shard", "4/3", cwd=tmp_path)
    assert done.returncode == 2 and "--shard takes I/N" in done.stderr


def test_an_unreadable_cassette_is_reported_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "broken.cassette").write_text("not a cassette")
    done = _check(str(tmp_path), "--json", cwd=tmp_path)
    assert done.returncode == 3
    (result,) = json.loads(done.stdout)["results"]
    assert result["verdict"] == "unreadable" and "not an agentreplay cassette" in result["detail"]
