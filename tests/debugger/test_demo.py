"""agentreplay demo, as a new user runs it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from agentreplay.demo.run import agent_path


def test_demo_records_a_failure_and_reproduces_it_twice(tmp_path: Path) -> None:
    started = time.monotonic()
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
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "failed" in out and "KeyError" in out
    assert out.count("reproduced: KeyError('order')") == 2
    assert "agentreplay show" in out and "--break-at" in out
    assert elapsed < 60
    assert list((tmp_path / "runs").glob("run-*.cassette"))


def test_the_packaged_agent_is_the_example() -> None:
    packaged = Path(__file__).resolve().parents[2] / "agentreplay" / "demo" / "support_agent.py"
    assert packaged.read_text() == agent_path().read_text()
