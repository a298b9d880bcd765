"""agentreplay demo, as a new user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agentreplay.cli.demo_run import agent_path


def test_demo_records_a_failure_and_reproduces_it_twice(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentreplay",
            "demo",
            "--seed",
            "7",
            "--dir",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "failed" in out and "KeyError" in out
    assert out.count("reproduced: KeyError('order')") == 2
    assert "agentreplay show" in out and "--break-at" in out
    # each suggested command on one line, whatever the width, so it can be copied
    assert any(
        line.strip().startswith("agentreplay replay")
        and line.endswith("--override 1='\"All good, nothing to look up.\"'")
        for line in out.splitlines()
    )
    assert list((tmp_path / "runs").glob("run-*.cassette"))


def test_the_packaged_agent_is_the_example() -> None:
    packaged = Path(__file__).resolve().parents[2] / "agentreplay" / "demo" / "support_agent.py"
    assert packaged.read_text() == agent_path().read_text()


def test_demo_from_an_installed_package_runs_a_copy_of_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Installed from a wheel, there is no examples/ folder: the packaged copy lives inside
    # agentreplay, whose own code is never recorded, so the demo must run a copy of it.
    import io

    from rich.console import Console

    from agentreplay.cli import demo_run as run

    monkeypatch.setattr(run, "_REPO_EXAMPLE", tmp_path / "missing" / "support_agent.py")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    code = run.run_demo(tmp_path / "runs", seed=7, console=Console(file=out, width=200))
    assert code == 0, out.getvalue()
    assert (tmp_path / "runs" / "support_agent.py").is_file()
    assert out.getvalue().count("reproduced: KeyError('order')") == 2


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_demo_serve_runs_the_servers_for_the_example_by_hand(tmp_path: Path) -> None:
    serving = subprocess.Popen(
        [sys.executable, "-m", "agentreplay", "demo", "--serve", "--ports", "0,0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=agent_path().parents[1],
        # Ctrl-C as in a terminal, even when this suite runs with SIGINT ignored (in the
        # background of a shell), which the child would otherwise inherit.
        preexec_fn=_default_sigint,
    )
    try:
        assert serving.stdout is not None
        lines = [serving.stdout.readline() for _ in range(6)]
        exports = next(line for line in lines if "export " in line).split("export ", 1)[1]
        env = dict(os.environ, **dict(pair.split("=", 1) for pair in exports.split()))
        record = next(line for line in lines if "agentreplay record" in line).split()
        assert record[:4] == ["agentreplay", "record", "-o", "run.cassette"]
        cassette = tmp_path / "run.cassette"
        recorded = subprocess.run(
            [sys.executable, "-m", "agentreplay", "record", "-o", str(cassette), *record[4:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=agent_path().parents[1],
        )
        assert cassette.exists(), recorded.stdout + recorded.stderr
    finally:
        serving.send_signal(signal.SIGINT)
        assert serving.wait(10) == 0
        assert serving.stdout is not None
        serving.stdout.close()
    served = ("OPENAI_BASE_URL", "SUPPORT_TOOLS_URL", "OPENAI_API_KEY")
    bare = {k: v for k, v in os.environ.items() if k not in served}
    replayed = subprocess.run(
        [sys.executable, "-m", "agentreplay", "replay", str(cassette)],
        env=bare,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "reproduced" in replayed.stdout, replayed.stdout + replayed.stderr


def test_demo_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "agentreplay", "demo", "--serve", "--ports", f"0,{port}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            cwd=tmp_path,
        )
    assert done.returncode == 2
    assert f"cannot start the demo's servers on ports 0 and {port}" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_demo_again_replaces_its_runs_but_keeps_what_was_made_from_them(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from agentreplay.cli import demo_run as run

    runs = tmp_path / "runs"
    runs.mkdir()
    made = [runs / "run-1.whatif1.cassette", runs / "run-2.fork1.cassette"]
    for path in [*made, runs / "run-9.cassette"]:
        path.write_bytes(b"kept?")
    code = run.run_demo(runs, seed=7, console=Console(file=io.StringIO(), width=200))
    assert code == 0
    assert not (runs / "run-9.cassette").exists()  # a run of the last demo: replaced
    assert all(path.read_bytes() == b"kept?" for path in made)  # the user's what-ifs
