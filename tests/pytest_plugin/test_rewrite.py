"""Mode rewrite keeps a good cassette when the new recording only found a server down."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pytest_plugin.project import ASK, make_project, summary

pytest_plugins = ["pytester"]

CHAT = (
    ASK
    + """
import os


class Down:
    url = "http://127.0.0.1:9"  # nothing listens there


def test_chat(server, agent_cassette):
    ask(Down if os.environ.get("SERVER_DOWN") else server, "weather in Paris?")
"""
)
CASSETTE = "cassettes/test_chat/test_chat.cassette"


def test_rewrite_with_the_server_down_keeps_the_answered_cassette(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(pytester)
    pytester.makepyfile(test_chat=CHAT)
    pytester.runpytest().assert_outcomes(passed=1)
    cassette = Path(pytester.path) / CASSETTE
    good = cassette.read_bytes()

    monkeypatch.setenv("SERVER_DOWN", "1")
    down = pytester.runpytest("--agentreplay-mode=rewrite")
    down.assert_outcomes(failed=1)
    assert cassette.read_bytes() == good
    assert not cassette.with_name(cassette.name + ".tmp").exists()
    [line] = [line for line in summary(down) if line.startswith("kept ")]
    assert line.startswith(f"kept {CASSETTE}: the new recording failed to connect (ConnectError")
    assert line.endswith("start the servers and record again")

    monkeypatch.delenv("SERVER_DOWN")
    pytester.runpytest().assert_outcomes(passed=1)  # auto replays the good recording


def test_agentreplay_replay_of_a_tests_cassette_names_the_test_and_its_command(
    pytester: pytest.Pytester,
) -> None:
    import subprocess
    import sys

    make_project(pytester)
    pytester.makepyfile(test_chat=CHAT)
    pytester.runpytest().assert_outcomes(passed=1)
    cassette = Path(pytester.path) / CASSETTE
    done = subprocess.run(
        [sys.executable, "-m", "agentreplay", "replay", str(cassette)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"agentreplay: error: {cassette} is the cassette of the test test_chat.py::test_chat; "
        f"replay it by running the test, which replays it offline: "
        f"pytest test_chat.py::test_chat"
    ]
