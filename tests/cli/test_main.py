"""The agentreplay command as a whole: pipes, help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import agentreplay
from agentreplay.cli import main


@pytest.fixture(scope="module")
def cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("main") / "run.cassette"
    with agentreplay.record(path):
        with agentreplay.step("plan"):
            pass
    return path


@pytest.mark.parametrize(
    "command", [["show", "--events", "--limit", "0"], ["show", "--json"], ["export"]]
)
def test_a_reader_that_stops_early_is_not_an_error(cassette: Path, command: list[str]) -> None:
    """``agentreplay show FILE | head``: no BrokenPipeError traceback, exit 0."""
    with subprocess.Popen(
        [sys.executable, "-m", "agentreplay", command[0], str(cassette), *command[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # no reader left before the first write: it must hit EPIPE
        err = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0, err
    assert "BrokenPipeError" not in err and "Traceback" not in err


def test_export_help_names_the_default_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "jsonl (the default)" in capsys.readouterr().out


@pytest.mark.parametrize("limit", ["-1", "ten"])
def test_show_limit_must_be_a_count(
    cassette: Path, limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["show", str(cassette), "--limit", limit])
    assert exited.value.code == 2
    assert "argument --limit" in capsys.readouterr().err


def test_the_command_runs_where_pytest_is_not_installed(cassette: Path) -> None:
    """Only the pytest plugin and ``promote`` need pytest: an agent's environment may
    not have it (CrewAI's, in tests/integrations/test_crewai.py)."""
    program = (
        "import sys; sys.modules['pytest'] = None\n"  # any import of pytest now fails
        "from agentreplay.cli import main\n"
        f"sys.exit(main(['show', {str(cassette)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "plan" in done.stdout
