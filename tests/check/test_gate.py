"""``agentreplay check`` over a corpus of recorded runs: unchanged code, a changed
prompt, a fixed bug; JUnit XML; shards."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import agentreplay
from agentreplay.check import find_cassettes, shard
from tests.support_agent import recording_support_agent

RUNS = 20
BUG = 'order = result["order"]'
FIX = 'order = result.get("order", "unknown")'


def _record_corpus(agent_dir: Path, corpus: Path) -> None:
    """Record RUNS calls of the support agent's @entrypoint, each into its own cassette."""
    with recording_support_agent(agent_dir, corpus / "{timestamp}-{run_id}.cassette", 11) as agent:
        for _ in range(RUNS):
            with contextlib.suppress(KeyError):  # the agent's bug, recorded
                agent.main("Where is my order?")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the agent's folder, the folder of its recorded runs), recorded once for the module.
    A test that edits the agent or marks a run puts it back."""
    agent_dir = tmp_path_factory.mktemp("agent")
    corpus = tmp_path_factory.mktemp("corpus")
    _record_corpus(agent_dir, corpus)
    yield agent_dir, corpus


@contextlib.contextmanager
def _edited(source: Path, old: str, new: str) -> Iterator[None]:
    original = source.read_text()
    assert old in original
    source.write_text(original.replace(old, new))
    try:
        yield
    finally:
        source.write_text(original)


def _check(*args: str, cwd: Path, summary: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTREPLAY_", "OPENAI"))}
    env.pop("GITHUB_STEP_SUMMARY", None)
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    return subprocess.run(
        [sys.executable, "-m", "agentreplay", "check", "-j", "2", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _failed(cassette: Path) -> bool:
    with agentreplay.open(cassette) as opened:
        outcome = opened.outcome
    return outcome is not None and outcome.error is not None


def _verdicts(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {Path(r["path"]).name: r for r in json.loads(done.stdout)["results"]}


def test_unchanged_code_reproduces_every_recorded_run_failures_included(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    _, runs = corpus
    cassettes = find_cassettes([str(runs)])
    assert len(cassettes) == RUNS and 0 < sum(map(_failed, cassettes)) < RUNS

    report = tmp_path / "junit.xml"
    done = _check(str(runs), "--junit", str(report), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {r["verdict"] for r in _verdicts(done).values()} == {"reproduced"}
    suite = ElementTree.parse(report).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == str(RUNS)
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert sorted(case.get("name", "") for case in suite.iter("testcase")) == sorted(
        c.name for c in cassettes
    )
    assert not [case for case in suite.iter("testcase") if len(case)]  # no failure inside


def test_a_changed_prompt_diverges_every_run_at_its_first_model_call(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    agent_dir, runs = corpus
    failing = sum(map(_failed, find_cassettes([str(runs)])))
    report, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    with _edited(
        agent_dir / "support_agent.py", "Use the tools to answer.", "Use the tools, briefly."
    ):
        done = _check(str(runs), "--json", "--junit", str(report), cwd=tmp_path, summary=summary)
    assert done.returncode == 1, done.stdout + done.stderr
    results = _verdicts(done).values()
    assert {r["verdict"] for r in results} == {"diverged"}
    for result in results:
        assert result["detail"].startswith("diverged at step 1: the request does not match")
        assert "body $.messages[0].content: " in result["detail"]
        assert "{+briefly+}" in result["detail"]  # the words that changed
        assert "call site: " in result["detail"] and "support_agent.py:" in result["detail"]
    assert all("briefly" in r["message"] and "support_agent.py:" in r["message"] for r in results)
    suite = ElementTree.parse(report).getroot()
    assert suite.get("failures") == str(RUNS)
    failures = [case.find("failure") for case in suite.iter("testcase")]
    assert all(f is not None and "diverged" in f.get("message", "") for f in failures)
    markdown = summary.read_text()
    assert markdown.startswith("### agentreplay check")
    assert f"fixes 0 of {failing} captured failures and changes {RUNS - failing} of" in markdown
    assert markdown.count("| diverged |") == RUNS


def test_a_fix_turns_the_marked_failures_fixed_and_leaves_the_rest_reproduced(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    agent_dir, runs = corpus
    cassettes = find_cassettes([str(runs)])
    failing = [c for c in cassettes if _failed(c)]
    marked = subprocess.run(
        [sys.executable, "-m", "agentreplay", "mark", *map(str, failing), "--expect", "fixed"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert marked.stdout.count(": expect fixed (kept in ") == len(failing)
    try:
        with _edited(agent_dir / "support_agent.py", BUG, FIX):
            done = _check(str(runs), "--json", cwd=tmp_path)
    finally:
        (runs / "expectations.json").unlink()
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = {name: r["verdict"] for name, r in _verdicts(done).items()}
    assert {verdicts[c.name] for c in failing} == {"fixed"}
    assert {verdicts[c.name] for c in cassettes if c not in failing} == {"reproduced"}
    assert json.loads(done.stdout)["summary"] == (
        f"this change fixes {len(failing)} of {len(failing)} captured failures and "
        f"changes 0 of {RUNS - len(failing)} successful runs"
    )


def test_shards_cover_every_cassette_exactly_once(corpus: tuple[Path, Path]) -> None:
    _, runs = corpus
    cassettes = find_cassettes([str(runs / "*.cassette")])
    shards = [shard(cassettes, f"{i}/3") for i in (1, 2, 3)]
    assert sorted(c for part in shards for c in part) == sorted(cassettes)
    assert all(shards)  # 20 names: every shard has some
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


def test_a_truncated_cassette_is_unreadable_not_a_divergence(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    agent_dir, runs = corpus
    whole = sorted(runs.glob("*.cassette"))[0].read_bytes()
    (tmp_path / "cut.cassette").write_bytes(whole[: len(whole) * 2 // 3])
    done = _check(str(tmp_path), "--json", cwd=agent_dir)
    assert done.returncode == 3, done.stdout + done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["verdict"] == "unreadable"
    assert "is damaged or truncated at byte" in result["detail"], result["detail"]
