"""``agentreplay promote``: a recorded failure becomes a regression test that passes as
written, and fails with a readable diff once the agent's prompt changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import agentreplay
from tests.support_agent import recording_support_agent


def _record_a_failure(agent_dir: Path) -> Path:
    runs = agent_dir / "runs"
    with recording_support_agent(agent_dir, runs / "{run_id}.cassette", 3) as agent:
        for _ in range(30):
            try:
                agent.main("Where is my order?")
            except KeyError:
                break
        else:
            raise AssertionError("the agent never failed")
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


def _pytest(test_file: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one promoted test file, as its user would."""
    return _run(
        "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", str(test_file),
        cwd=cwd,
    )  # fmt: skip


def _promote_and_run(agent_dir: Path, record: str) -> None:
    """Record a run with the ``record`` script, promote it, and run the promoted test."""
    recorded = _run("-c", record, cwd=agent_dir)
    assert recorded.returncode == 0, recorded.stderr
    cassette = agent_dir / "run.cassette"
    done = _run("-m", "agentreplay", "promote", str(cassette), "--to", "tests", cwd=agent_dir)
    assert done.returncode == 0, done.stderr
    (test_file,) = (agent_dir / "tests").glob("test_promoted_*.py")
    passed = _pytest(test_file, agent_dir)
    assert passed.returncode == 0, test_file.read_text() + passed.stdout + passed.stderr


def test_a_promoted_failure_passes_then_fails_with_a_diff_when_the_prompt_changes(
    tmp_path: Path,
) -> None:
    failure = _record_a_failure(tmp_path)

    done = _run("-m", "agentreplay", "promote", str(failure), "--to", "tests", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (test_file,) = (tmp_path / "tests").glob("test_promoted_*.py")
    text = test_file.read_text()
    assert "from support_agent import main" in text and "KeyError" in text
    copies = list((tmp_path / "tests" / "cassettes").rglob("*.cassette"))
    assert len(copies) == 1 and copies[0].read_bytes() == failure.read_bytes()

    passed = _pytest(test_file, tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout

    agent = tmp_path / "support_agent.py"
    agent.write_text(agent.read_text().replace("Use the tools to answer.", "Be brief."))
    failed = _pytest(test_file, tmp_path)
    assert failed.returncode == 1
    assert "replay diverged at step 1" in failed.stdout
    assert "Be brief." in failed.stdout and "Use the tools to answer." in failed.stdout


def test_a_promoted_task_group_failure_passes_as_written(tmp_path: Path) -> None:
    (tmp_path / "grouped.py").write_text(
        "import asyncio\n"
        "import agentreplay\n\n\n"
        "async def _check(order: str) -> None:\n"
        "    raise ValueError(f'{order} is late')\n\n\n"
        "async def _check_all(order: str) -> None:\n"
        "    async with asyncio.TaskGroup() as group:\n"
        "        group.create_task(_check(order))\n\n\n"
        "@agentreplay.entrypoint\n"
        "def main(order: str) -> None:\n"
        "    asyncio.run(_check_all(order))\n"
    )
    _promote_and_run(
        tmp_path,
        "import os\n"
        "os.environ.update(AGENTREPLAY_MODE='record', AGENTREPLAY_CASSETTE='run.cassette')\n"
        "import grouped\n"
        "try:\n    grouped.main('A-1')\n"
        "except ExceptionGroup:\n    pass\n",
    )


def test_a_promoted_run_that_returned_an_object_passes_whatever_its_address(
    tmp_path: Path,
) -> None:
    (tmp_path / "shipping.py").write_text(
        "import agentreplay\n\n\n"
        "class Parcel:\n"
        "    pass\n\n\n"
        "@agentreplay.entrypoint\n"
        "def main() -> Parcel:\n"
        "    return Parcel()\n"
    )
    _promote_and_run(
        tmp_path,
        "import os\n"
        "os.environ.update(AGENTREPLAY_MODE='record', AGENTREPLAY_CASSETTE='run.cassette')\n"
        "import shipping\n"
        "shipping.main()\n",
    )


def test_a_promoted_async_entrypoint_is_awaited(tmp_path: Path) -> None:
    (tmp_path / "waiting.py").write_text(
        "import asyncio\n"
        "import time\n"
        "import agentreplay\n\n\n"
        "@agentreplay.entrypoint\n"
        "async def main(order: str) -> str:\n"
        "    await asyncio.sleep(0)\n"
        "    return f'{order} checked at {time.time()}'\n"
    )
    _promote_and_run(
        tmp_path,
        "import asyncio, os\n"
        "os.environ.update(AGENTREPLAY_MODE='record', AGENTREPLAY_CASSETTE='run.cassette')\n"
        "import waiting\n"
        "asyncio.run(waiting.main('A-1'))\n",
    )
    (test_file,) = (tmp_path / "tests").glob("test_promoted_*.py")
    text = test_file.read_text()
    assert "asyncio.run(replayed('A-1'))" in text and "agent_cassette" not in text


def test_a_promoted_test_reports_its_run_as_reproduced(tmp_path: Path) -> None:
    (tmp_path / "counting.py").write_text(
        "import random\n"
        "import agentreplay\n\n\n"
        "@agentreplay.entrypoint\n"
        "def main(n: int) -> int:\n"
        "    if n < 0:\n"
        "        raise ValueError(f'{n} is negative')\n"
        "    return n + random.randint(0, 9)\n"
    )
    for argument, name in (("3", "returned"), ("-1", "raised")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "counting.py").write_text((tmp_path / "counting.py").read_text())
        _promote_and_run(
            folder,
            "import os\n"
            "os.environ.update(AGENTREPLAY_MODE='record', AGENTREPLAY_CASSETTE='run.cassette')\n"
            "import counting\n"
            f"try:\n    counting.main({argument})\n"
            "except ValueError:\n    pass\n",
        )
        (test_file,) = (folder / "tests").glob("test_promoted_*.py")
        passed = _pytest(test_file, folder)
        assert "1 cassette replayed" in passed.stdout, passed.stdout
        assert "not reproduced" not in passed.stdout, test_file.read_text() + passed.stdout


def test_a_damaged_cassette_is_refused_before_a_test_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentreplay.cli import main
    from tests.servers import ToolServer

    whole = tmp_path / "run.cassette"
    with ToolServer() as tools, agentreplay.record(whole):
        for n in range(20):
            httpx.get(f"{tools.url}/tool/{n}")
    data = whole.read_bytes()
    cut = tmp_path / "cut.cassette"
    cut.write_bytes(data[: len(data) // 2])
    assert main(["promote", str(cut), "--to", str(tmp_path / "tests")]) == 2
    said = capsys.readouterr().err
    assert f"{cut} is damaged or truncated at byte" in said
    assert "record the run again" in said
    assert not (tmp_path / "tests").exists()
