"""--agentreplay-mode: auto, record, replay, rewrite, off; and which setting wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pytest_plugin.project import ASK, cassettes, header, make_project, summary

pytest_plugins = ["pytester"]

AGENT_TESTS = (
    ASK
    + """

def test_weather(server, agent_cassette):
    before = len(server.hits)
    answer = ask(server, "weather in Paris?")
    assert answer["echo"]["messages"][0]["content"] == "weather in Paris?"
    went_out = len(server.hits) - before
    assert went_out == (0 if agent_cassette.mode == "replay" else 1)


@pytest.mark.agentreplay
def test_marked_without_fixture(server):
    assert ask(server, "hello")["path"] == "/ask"
"""
)

WEATHER = "cassettes/test_agent/test_weather.cassette"
MARKED = "cassettes/test_agent/test_marked_without_fixture.cassette"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    make_project(pytester)
    pytester.makepyfile(test_agent=AGENT_TESTS)
    return pytester


def test_auto_records_missing_cassettes_then_replays_them_offline(project: pytest.Pytester) -> None:
    first = project.runpytest()
    first.assert_outcomes(passed=2)
    assert cassettes(project) == [MARKED, WEATHER]
    assert summary(first) == [
        f"recorded {WEATHER} (no cassette yet)",
        f"recorded {MARKED} (no cassette yet)",
    ]
    meta = header(project.path / WEATHER)["metadata"]
    assert meta["pytest"] == {
        "nodeid": "test_agent.py::test_weather",
        "mode": "auto",
        "reason": "no cassette yet",
    }

    second = project.runpytest()
    second.assert_outcomes(passed=2)  # test_weather asserts the server saw nothing
    assert summary(second) == ["2 cassettes replayed"]


def test_record_writes_new_cassettes_and_refuses_to_replace_one(project: pytest.Pytester) -> None:
    project.runpytest("--agentreplay-mode=record").assert_outcomes(passed=2)
    assert cassettes(project) == [MARKED, WEATHER]

    again = project.runpytest("--agentreplay-mode=record", "-k", "weather")
    again.assert_outcomes(errors=1)
    again.stdout.fnmatch_lines(
        [
            f"agentreplay: {WEATHER} already exists and --agentreplay-mode=record only writes "
            f"new cassettes.",
            "Replace it with --agentreplay-mode=rewrite.",
        ]
    )


def test_rewrite_records_again_over_an_existing_cassette(project: pytest.Pytester) -> None:
    project.runpytest().assert_outcomes(passed=2)
    run_id = header(project.path / WEATHER)["run_id"]

    result = project.runpytest("--agentreplay-mode=rewrite", "-k", "weather")
    result.assert_outcomes(passed=1)
    assert summary(result) == [f"re-recorded {WEATHER} (mode rewrite)"]
    assert header(project.path / WEATHER)["run_id"] != run_id
    assert not list(project.path.rglob("*.tmp"))


KEYED = (
    ASK
    + """
import os


def test_keyed(server, agent_cassette):
    # What the model SDKs do when they are made: refuse to start without a key.
    assert os.environ.get("OPENAI_API_KEY") and os.environ.get("ANTHROPIC_API_KEY")
    ask(server, "weather in Paris?")


def test_after():
    assert os.environ.get("OPENAI_API_KEY") != "replay-needs-no-key"
"""
)


def test_a_replay_gives_the_sdks_a_key_for_the_test_only(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(pytester)
    pytester.makepyfile(test_keyed=KEYED)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-recording")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-recording")
    pytester.runpytest().assert_outcomes(passed=2)
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # as on a CI machine without secrets
    pytester.runpytest().assert_outcomes(passed=2)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-mine")  # one that is set is left alone
    pytester.runpytest("--agentreplay-mode=replay").assert_outcomes(passed=2)


def test_replay_of_a_missing_cassette_fails_with_the_command_that_records_it(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("--agentreplay-mode=replay", "-k", "weather")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"agentreplay: no cassette for this test at {WEATHER} (mode replay, from "
            f"--agentreplay-mode).",
            "Record it with:",
            "    pytest test_agent.py::test_weather --agentreplay-mode=record",
        ]
    )
    assert cassettes(project) == []

    project.runpytest("test_agent.py::test_weather", "--agentreplay-mode=record").assert_outcomes(
        passed=1
    )
    project.runpytest("--agentreplay-mode=replay", "-k", "weather").assert_outcomes(passed=1)


def test_off_runs_live_and_writes_nothing(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(
        test_off=ASK
        + """
def test_live(server, agent_cassette):
    assert agent_cassette.mode == "off" and agent_cassette.session is None
    ask(server, "hi")
    assert len(server.hits) == 1
"""
    )
    result = pytester.runpytest("--agentreplay-mode=off")
    result.assert_outcomes(passed=1)
    assert cassettes(pytester) == []
    assert summary(result) == []


def test_mode_strict_and_pace_resolve_command_line_then_ini_then_marker(
    pytester: pytest.Pytester,
) -> None:
    make_project(pytester)
    pytester.makepyfile(
        test_settings="""
import pytest

@pytest.mark.agentreplay(mode="off", strict=False, pace="recorded")
def test_settings(request):
    cassette = request.getfixturevalue("agent_cassette")
    print(f"\\nSETTINGS {cassette.requested.value} ({cassette.source}) "
          f"strict={cassette.strict} pace={cassette.pace}")
"""
    )

    def settings(*args: str) -> str:
        result = pytester.runpytest("-s", *args)
        result.assert_outcomes(passed=1)
        return next(line for line in result.outlines if line.startswith("SETTINGS"))

    assert settings() == "SETTINGS off (marker mode=) strict=False pace=recorded"
    assert (
        settings(
            "-o",
            "agentreplay_mode=rewrite",
            "-o",
            "agentreplay_strict=true",
            "-o",
            "agentreplay_pace=2",
            "--agentreplay-mode=off",
        )
        == "SETTINGS off (--agentreplay-mode) strict=True pace=2"
    )
    make_project(pytester, "agentreplay_mode = off\nagentreplay_pace = instant\n")
    assert settings() == "SETTINGS off (ini agentreplay_mode) strict=False pace=instant"

    help_text = " ".join(pytester.runpytest("--help").stdout.str().split())
    assert help_text.count("Precedence: command line > ini > marker.") == 4


def test_bad_settings_are_usage_errors(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_x="def test_x(): pass")
    bad_ini = pytester.runpytest("-o", "agentreplay_mode=sometimes")
    assert bad_ini.ret == pytest.ExitCode.USAGE_ERROR
    bad_ini.stderr.fnmatch_lines(["*unknown agentreplay mode 'sometimes' (ini agentreplay_mode)*"])

    bad_cli = pytester.runpytest("--agentreplay-mode=sometimes")
    assert bad_cli.ret == pytest.ExitCode.USAGE_ERROR

    pytester.makepyfile(
        test_x="""
import pytest

@pytest.mark.agentreplay(mood="happy")
def test_x():
    pass
"""
    )
    bad_marker = pytester.runpytest()
    bad_marker.assert_outcomes(errors=1)
    bad_marker.stdout.fnmatch_lines(["*unknown @pytest.mark.agentreplay argument(s) mood*"])


def test_unused_plugin_leaves_other_tests_alone(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest("--agentreplay-mode=replay")
    result.assert_outcomes(passed=1)
    assert summary(result) == []
    assert not list(Path(pytester.path).rglob("cassettes"))
