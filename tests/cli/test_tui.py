"""agentreplay tui: the command, its errors, and the app in a real pseudo-terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentreplay.cli import main
from tests.terminal import Terminal
from tests.tui.conftest import recordings

__all__ = ["recordings"]  # the session's recordings, shared with tests/tui


def test_tui_end_to_end_in_a_pseudo_terminal(recordings: Path) -> None:
    terminal = Terminal(["tui", str(recordings / "failed.cassette")])
    terminal.wait_for("step 1 S plan")
    screen = terminal.wait_for("raised KeyError('order') at step 7")
    assert "g Go to" in screen and "? Help" in screen
    terminal.type("g")
    terminal.wait_for("go to step (1-7)")  # the prompt, as a person would wait for it
    terminal.type("2", "\r")
    terminal.wait_for("step 2 L gpt-4o")
    terminal.wait_for("Where is my order B-2001?")  # the prompt it sent
    terminal.type("/")
    terminal.wait_for("search prompts, answers")
    terminal.type(*"could not be found", "\r")
    terminal.wait_for("'could not be found': step 5, match 1 of 1")
    terminal.wait_for("step 5 L claude-sonnet-4-5")
    terminal.type("q")
    assert terminal.finish() == 0


def test_a_missing_or_unreadable_cassette_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tui", str(tmp_path / "absent.cassette")]) == 3
    assert capsys.readouterr().err.count("\n") == 1
    junk = tmp_path / "junk.cassette"
    junk.write_bytes(b"\x00" * 100)
    assert main(["tui", str(junk)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("agentreplay: error: ") and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert main(["tui", str(tmp_path / "empty")]) == 3  # a folder with no cassette in it
    assert "no .cassette files under" in capsys.readouterr().err


def test_an_unreadable_cassette_in_a_terminal_leaves_no_broken_screen(tmp_path: Path) -> None:
    junk = tmp_path / "junk.cassette"
    junk.write_bytes(b"AGENTREPLAY" + b"\xff" * 64)
    terminal = Terminal(["tui", str(junk)])
    assert terminal.finish() == 3
    assert b"\x1b[?1049h" not in terminal.transcript  # the app never took the screen
    assert b"agentreplay: error:" in terminal.transcript and b"Traceback" not in terminal.transcript


def test_wrong_arguments_and_a_bad_key_config_are_usage_errors(
    recordings: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = str(recordings / "failed.cassette")
    assert main(["tui", run, run, run]) == 2
    assert "one cassette, one directory, or two cassettes" in capsys.readouterr().err
    config = tmp_path / "tui.toml"
    config.write_text('[keys]\n"run.jump" = "x"\n')
    monkeypatch.setenv("AGENTREPLAY_TUI_CONFIG", str(config))
    assert main(["tui", run]) == 2
    assert "no action 'run.jump'" in capsys.readouterr().err


def test_the_help_and_other_commands_do_not_load_textual() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from agentreplay.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "assert 'tui' in out.getvalue(), out.getvalue()\n"
        "assert not any(m.startswith('textual') for m in sys.modules), 'textual loaded'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_show_in_a_terminal_points_at_the_tui_when_the_steps_do_not_fit(recordings: Path) -> None:
    run = str(recordings / "failed.cassette")
    short = Terminal(["show", run], columns=120, lines=10)
    assert short.finish() == 0
    assert f"agentreplay tui {run} browses these steps" in short.transcript.decode()
    tall = Terminal(["show", run], columns=120, lines=40)
    assert tall.finish() == 0
    assert b"agentreplay tui" not in tall.transcript
    piped = subprocess.run(
        [sys.executable, "-m", "agentreplay", "show", run], capture_output=True, text=True
    )
    assert piped.returncode == 0 and "agentreplay tui" not in piped.stdout
