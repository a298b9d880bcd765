"""Replaying a cassette runs code: it is shown first, and code from elsewhere is asked for.

"Elsewhere" is simulated the way it happens: the cassette is recorded with
another state directory (another user's key), or its header is changed after
recording (a crafted file keeps its valid checksums, not its mark).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect

import agentreplay
from tests.cassette.helpers import write
from tests.debugger.conftest import agentreplay_cli

MAKES_MARKER = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('ran')"


def _env(state: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    env.pop("AGENTREPLAY_MODE", None)
    return env


def _record_inline(tmp_path: Path, state: Path, marker: Path) -> Path:
    cassette = tmp_path / "inline.cassette"
    recorded = agentreplay_cli(
        "record",
        "-o",
        str(cassette),
        "--",
        sys.executable,
        "-c",
        MAKES_MARKER,
        str(marker),
        env=_env(state),
        cwd=tmp_path,
    )
    assert recorded.returncode == 0, recorded.stderr
    assert marker.read_text() == "ran"
    marker.unlink()
    return cassette


def _replay(cassette: Path, state: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentreplay", "replay", str(cassette), *args],
        env=_env(state),
        cwd=cwd,
        stdin=subprocess.DEVNULL,  # no terminal to ask, as in CI
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _reheader(source: Path, target: Path, **changes: Any) -> Path:
    """``source`` with its header changed: what a crafted cassette looks like."""
    with agentreplay.open(source) as opened:
        header = {**opened.header, **changes}
        events = list(opened.events())
    write(target, events, header=header)
    return target


def test_inline_code_from_another_user_does_not_run_without_yes(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    cassette = _record_inline(tmp_path, tmp_path / "theirs", marker)
    refused = _replay(cassette, tmp_path / "mine", tmp_path)
    assert refused.returncode == 5
    assert not marker.exists()
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("agentreplay: replaying python -c ")
    assert "(recorded by " in lines[0] and ", not here)" in lines[0]
    assert "agentreplay: not recorded here, and it runs inline code (python -c)" in lines[1]
    assert f"    {MAKES_MARKER}" in lines  # the whole code, shown before asking
    assert lines[-1] == (
        f"agentreplay: not run: {cassette} was not recorded here and it runs inline code "
        f"(python -c) kept in the cassette; read what it runs above, then pass --yes to run it"
    )


def test_inline_code_from_another_user_runs_with_yes(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    cassette = _record_inline(tmp_path, tmp_path / "theirs", marker)
    agreed = _replay(cassette, tmp_path / "mine", tmp_path, "--yes")
    assert agreed.returncode == 0, agreed.stderr
    assert marker.read_text() == "ran"
    assert "reproduced" in agreed.stdout


def test_inline_code_recorded_here_runs_without_asking(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    cassette = _record_inline(tmp_path, tmp_path / "mine", marker)
    replayed = _replay(cassette, tmp_path / "mine", tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    assert marker.read_text() == "ran"
    assert replayed.stderr.splitlines()[0].endswith("(recorded here)")


def test_a_header_changed_after_recording_counts_as_made_elsewhere(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    mine = tmp_path / "mine"
    recorded = _record_inline(tmp_path, mine, marker)
    with agentreplay.open(recorded) as opened:
        script = dict(opened.header["script"])
    script["code"] = MAKES_MARKER.replace("'ran'", "'crafted'")
    crafted = _reheader(recorded, tmp_path / "crafted.cassette", script=script)
    refused = _replay(crafted, mine, tmp_path)
    assert refused.returncode == 5, refused.stderr
    assert not marker.exists()
    assert "'crafted'" in refused.stderr


def test_a_cassette_that_does_not_say_where_it_was_made_counts_as_elsewhere(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "marker"
    recorded = _record_inline(tmp_path, tmp_path / "mine", marker)
    anonymous = _reheader(recorded, tmp_path / "anonymous.cassette", origin=None)
    refused = _replay(anonymous, tmp_path / "mine", tmp_path)
    assert refused.returncode == 5
    assert "recorded by an unknown user on an unknown host, not here" in refused.stderr
    assert not marker.exists()


def test_the_terminal_is_asked_and_no_means_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    cassette = _record_inline(tmp_path, tmp_path / "theirs", marker)
    for answer, runs in (("n", False), ("y", True)):
        child = pexpect.spawn(
            sys.executable,
            ["-m", "agentreplay", "replay", str(cassette)],
            env=_env(tmp_path / "mine"),
            cwd=str(tmp_path),
            encoding="utf-8",
            timeout=60,
        )
        try:
            child.expect_exact(MAKES_MARKER)
            child.expect_exact("agentreplay: run it? [y/N] ")
            assert not marker.exists()
            child.sendline(answer)
            child.expect(pexpect.EOF)
        finally:
            child.close()
        assert marker.exists() is runs
        assert child.exitstatus == (0 if runs else 5)


def test_an_os_system_entrypoint_is_shown_and_never_runs_unasked(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    recorded = _record_inline(tmp_path, tmp_path / "mine", marker)
    crafted = _reheader(
        recorded,
        tmp_path / "system.cassette",
        script=None,
        entrypoint="os:system",
        args=[[f"touch {marker}"], {}],
    )
    refused = _replay(crafted, tmp_path / "mine", tmp_path)
    assert refused.returncode == 5
    assert refused.stderr.splitlines()[0].startswith(
        f"agentreplay: replaying os:system('touch {marker}') in {tmp_path}"
    )
    assert "entrypoint os:system is outside the working tree (" in refused.stderr
    assert not marker.exists()
    # Even agreed to, a name that is not a function defined where it says is refused.
    agreed = _replay(crafted, tmp_path / "mine", tmp_path, "--yes")
    assert not marker.exists()
    assert agreed.returncode == 3
    assert "os:system is not a function defined in os" in agreed.stderr


def test_pythonpath_from_the_header_is_never_applied(tmp_path: Path) -> None:
    loads = tmp_path / "evil"
    loads.mkdir()
    marker = tmp_path / "marker"
    (loads / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('loaded')\n")
    script = tmp_path / "agent.py"
    script.write_text("print('hello')\n")
    cassette = tmp_path / "run.cassette"
    mine = tmp_path / "mine"
    recorded = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, str(script),
        env=_env(mine), cwd=tmp_path,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    with agentreplay.open(cassette) as opened:
        env = dict(opened.header["env"])
    crafted = _reheader(
        cassette,
        tmp_path / "crafted.cassette",
        env={**env, "PYTHONPATH": str(loads), "LD_PRELOAD": str(loads / "x.so")},
    )
    replayed = _replay(crafted, mine, tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    assert not marker.exists()
    for name in ("PYTHONPATH", "LD_PRELOAD"):
        assert (
            f"agentreplay: warning: the cassette sets {name}, which can make a program load "
            f"other code; not applied"
        ) in replayed.stderr.splitlines()


def test_recording_refuses_to_keep_a_variable_that_loads_code(tmp_path: Path) -> None:
    recorded = agentreplay_cli(
        "record", "-o", str(tmp_path / "x.cassette"), "--env", "PYTHONSTARTUP",
        "--", sys.executable, "-c", "pass",
        env=_env(tmp_path / "mine"), cwd=tmp_path,
    )  # fmt: skip
    assert recorded.returncode == 2
    assert recorded.stderr.strip() == (
        "agentreplay: error: PYTHONSTARTUP can make a program load other code, so a "
        "replay never sets it and a cassette does not keep it"
    )
