"""A prompt that joins a set of strings replays in every later pytest run: the plugin
pins the hash seed for the session (each run here is a separate process)."""

from __future__ import annotations

import pytest

from tests.pytest_plugin.project import ASK, make_project

pytest_plugins = ["pytester"]

TEST = (
    ASK
    + """

TOOLS = {"search", "weather", "calendar", "email", "notes", "maps", "files", "news"}


def test_tools_in_the_prompt(server, agent_cassette):
    assert ask(server, "Tools: " + ", ".join(TOOLS))["path"] == "/ask"
"""
)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    make_project(pytester)
    pytester.makepyfile(test_agent=TEST)
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)  # as in a fresh terminal
    monkeypatch.delenv("AGENTREPLAY_HASH_SEED", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # run as its own pytest
    return pytester


def test_a_set_joined_into_a_prompt_replays_in_later_runs(project: pytest.Pytester) -> None:
    project.runpytest_subprocess("--agentreplay-mode=record").assert_outcomes(passed=1)
    for _ in range(3):
        project.runpytest_subprocess("--agentreplay-mode=replay").assert_outcomes(passed=1)


def test_with_the_seed_left_random_a_reordered_set_is_named_as_such(
    project: pytest.Pytester,
) -> None:
    # Eight names: two random seeds give the same order once in 40,320 runs.
    project.runpytest_subprocess(
        "--agentreplay-mode=record", "--agentreplay-hash-seed=off"
    ).assert_outcomes(passed=1)
    result = project.runpytest_subprocess(
        "--agentreplay-mode=replay", "--agentreplay-hash-seed=off"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*only the order of the same items differs*record again with PYTHONHASHSEED set*"]
    )
