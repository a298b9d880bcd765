"""How a run ended, as the user sees it: ``show --outcome``, and tracebacks without the
tool's own frames."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.debugger.conftest import agentreplay_cli

FAILING = """\
def lookup(orders, key):
    return orders[key]


def main():
    return lookup({}, "order")


main()
"""


def _record(tmp_path: Path, source: str) -> tuple[Path, str]:
    script = tmp_path / "agent.py"
    script.write_text(source)
    cassette = tmp_path / "run.cassette"
    done = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, str(script), cwd=tmp_path
    )
    return cassette, done.stderr


def _traceback(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("Traceback (most recent call last):")
    end = next(i for i, line in enumerate(lines) if line.startswith("KeyError"))
    return lines[start : end + 1]


def test_a_recorded_failure_shows_only_the_agents_frames(tmp_path: Path) -> None:
    cassette, stderr = _record(tmp_path, FAILING)
    shown = _traceback(stderr)
    assert f'  File "{tmp_path / "agent.py"}", line 9, in <module>' == shown[1]
    assert "agentreplay" not in "\n".join(shown) and "runpy" not in "\n".join(shown)
    replayed = agentreplay_cli("replay", str(cassette), cwd=tmp_path)
    assert _traceback(replayed.stderr) == shown  # the same on replay


def test_show_outcome_prints_the_traceback_as_the_agent_saw_it(tmp_path: Path) -> None:
    cassette, stderr = _record(tmp_path, FAILING)
    outcome = agentreplay_cli("show", str(cassette), "--outcome")
    assert outcome.returncode == 0
    assert outcome.stdout.splitlines() == _traceback(stderr)


def test_show_outcome_of_a_run_that_ended_well(tmp_path: Path) -> None:
    cassette, _ = _record(tmp_path, "print('fine')\n")
    outcome = agentreplay_cli("show", str(cassette), "--outcome")
    assert outcome.stdout == "exited with status 0\n"


def test_show_help_describes_the_command() -> None:
    shown = agentreplay_cli("show", "--help")
    assert "Shows a recorded run without running anything" in shown.stdout


def test_step_panels_follow_columns_when_piped(tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text("import agentreplay\nwith agentreplay.step('plan'):\n    pass\n")
    cassette = tmp_path / "run.cassette"
    agentreplay_cli("record", "-o", str(cassette), "--", sys.executable, str(script))
    narrow = agentreplay_cli(
        "show", str(cassette), "--step", "1", env={**os.environ, "COLUMNS": "60"}
    )
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60


def test_show_outcome_of_a_run_that_returned_prints_its_value(tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text(
        "import agentreplay\n\n\n@agentreplay.entrypoint\ndef main():\n"
        "    return {'order': 42, 'status': 'shipped'}\n\n\nmain()\n"
    )
    env = {**os.environ, "AGENTREPLAY_MODE": "record", "AGENTREPLAY_CASSETTE": "run.cassette"}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    outcome = agentreplay_cli("show", str(tmp_path / "run.cassette"), "--outcome")
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout == "returned {'order': 42, 'status': 'shipped'}\n"
