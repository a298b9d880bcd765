"""Chaos replay finds a race that plain replay hides, and keeps the schedule that shows it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import agentreplay
from agentreplay.debugger.chaos import perturb
from agentreplay.demo.tool_server import ToolServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTREPLAY_", "RACE_"))}
    return subprocess.run(
        [sys.executable, "-m", "agentreplay", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def race(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recorded run of examples/race_agent.py that went well."""
    agent_dir = tmp_path_factory.mktemp("agent")
    shutil.copy(EXAMPLES / "race_agent.py", agent_dir)
    cassette = agent_dir / "race.cassette"
    tools = ToolServer().start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(agent_dir)
            patch.syspath_prepend(str(agent_dir))
            patch.setenv("RACE_TOOLS_URL", tools.url)
            patch.setenv("AGENTREPLAY_MODE", "record")
            patch.setenv("AGENTREPLAY_CASSETTE", str(cassette))
            patch.setenv("AGENTREPLAY_ENV", "RACE_TOOLS_URL")
            agent: Any = __import__("race_agent")
            try:
                answer = asyncio.run(agent.main("A-1001"))
            finally:
                sys.modules.pop("race_agent", None)
    finally:
        tools.stop()
    assert answer.startswith("Order A-1001:")
    return cassette


def test_the_same_seed_gives_the_same_schedule(race: Path, tmp_path: Path) -> None:
    first, second, other = (tmp_path / f"{n}.cassette" for n in "abc")
    perturb(race, first, 7)
    perturb(race, second, 7)
    perturb(race, other, 8)

    def timeline(path: Path) -> list[tuple[str, int, int]]:
        with agentreplay.open(path) as cassette:
            return [(e.task, e.seq, e.at) for e in cassette.events()]

    assert timeline(first) == timeline(second) != timeline(other)
    with agentreplay.open(race) as a, agentreplay.open(first) as b:
        chunks_a = b"".join(
            getattr(e, "data", b"") for e in a.events() if type(e).__name__ == "HttpChunk"
        )
        chunks_b = b"".join(
            getattr(e, "data", b"") for e in b.events() if type(e).__name__ == "HttpChunk"
        )
        assert chunks_a == chunks_b  # the same bytes, cut elsewhere perhaps
        assert b.header["chaos"]["seed"] == 7


def test_check_with_chaos_finds_the_race_and_the_saved_schedule_fails_every_time(
    race: Path, tmp_path: Path
) -> None:
    plain = _cli("replay", str(race), cwd=race.parent)
    assert plain.returncode == 0, plain.stdout + plain.stderr  # plain replay passes

    done = _cli("check", str(race), "--chaos", "20", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["verdict"] == "reproduced" and result["chaos"]
    seed = result["chaos"][0]["seed"]
    assert "stale status" in result["chaos"][0]["detail"]
    assert "goes to task" in result["chaos"][0]["detail"]  # the perturbation that did it

    saved = tmp_path / "stale.cassette"
    broken = _cli("replay", str(race), "--chaos", str(seed), "-o", str(saved), cwd=race.parent)
    assert broken.returncode == 1
    assert f"under chaos seed {seed}: not reproduced" in broken.stdout
    assert f"chaos seed {seed}: answer " in broken.stdout
    for _ in range(3):
        again = _cli("replay", str(saved), cwd=race.parent)
        assert again.returncode == 1 and "stale status" in again.stdout, again.stdout
