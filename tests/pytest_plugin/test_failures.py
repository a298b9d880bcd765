"""What a failing test reports: divergences, live network on replay, failed recordings."""

from __future__ import annotations

import socket

import pytest

from tests.pytest_plugin.project import ASK, header, make_project, outcome_error, summary

pytest_plugins = ["pytester"]

CHAT = (
    ASK
    + """
import os


def test_chat(server, agent_cassette):
    ask(server, os.environ.get("QUESTION", "weather in Paris?"))
"""
)
CHAT_CASSETTE = "cassettes/test_chat/test_chat.cassette"


def test_a_changed_request_fails_with_the_structured_diff(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(pytester)
    pytester.makepyfile(test_chat=CHAT)
    pytester.runpytest().assert_outcomes(passed=1)

    monkeypatch.setenv("QUESTION", "weather in Rome?")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_chat _*",
            "replay diverged at step 1 (task 0): the request does not match the recording",
            "  expected: POST http://127.0.0.1:PORT/ask",
            "  actual:   POST http://127.0.0.1:PORT/ask",
            "  differences:",
            "    body $.messages[0].content: 'weather in Paris?' != 'weather in Rome?'",
            "  call site: */test_chat.py:* in ask",
            "*- agentreplay -*",
            f"cassette: {CHAT_CASSETTE}",
            "run:      replayed (mode auto, from default)",
            f"inspect:  agentreplay show {CHAT_CASSETTE}",
            "*short test summary info*",
            "FAILED test_chat.py::test_chat - Failed: replay diverged at step 1 *",
        ]
    )


MODEL_CALL = """
import os

import httpx


def test_model_call(server, agent_cassette):
    system = os.environ.get("SYSTEM", "You are a helpful assistant.")
    messages = [{"role": "system", "content": system}, {"role": "user", "content": "Hi?"}]
    if os.environ.get("FOLLOW_UP"):
        messages.append({"role": "user", "content": "And tomorrow?"})
    body = {"model": "gpt-4o", "messages": messages, "temperature": 0.2}
    httpx.post(server.url + "/v1/chat/completions", json=body)
"""


def test_a_changed_prompt_fails_with_the_run_diff_of_the_model_call(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(pytester)
    pytester.makepyfile(test_model=MODEL_CALL)
    pytester.runpytest().assert_outcomes(passed=1)

    monkeypatch.setenv("SYSTEM", "You are a terse assistant.")
    monkeypatch.setenv("FOLLOW_UP", "1")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "replay diverged at step 1 (task 0): the request does not match the recording",
            "  differences:",
            "    body $.messages[0].content: 'You are a helpful assistant.' != 'You are a terse "
            "assistant.'",
            "  call site: */test_model.py:* in test_model_call",
            "  the model call, field by field (messages aligned by role):",
            "    ~ messages[0] (system).content: You are a [-helpful-]{+terse+} assistant.",
            '    + messages[2] (user): {"role": "user", "content": "And tomorrow?"}',
            "*- agentreplay -*",
        ]
    )


NETWORK = (
    ASK
    + """
import socket

import agentreplay


def test_unrecorded_http_call(server, agent_cassette):
    ask(server, "hi")
    if agent_cassette.mode == "replay":
        ask(server, "one more", path="/extra")


def test_raw_socket_to_another_host(server, agent_cassette):
    if agent_cassette.mode == "replay":
        with socket.socket() as sock:
            sock.settimeout(0.2)
            sock.connect(("192.0.2.1", 9))


def test_raw_socket_to_loopback(server, agent_cassette):
    host, port = server.server_address
    with socket.create_connection((host, port), timeout=2):
        pass


def test_swallowed_divergence(server, agent_cassette):
    if agent_cassette.mode == "replay":
        try:
            ask(server, "not what was recorded")
        except agentreplay.DivergenceError:
            pass
"""
)


def test_replay_blocks_the_network_and_names_the_attempt(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_network=NETWORK)
    pytester.runpytest().assert_outcomes(passed=4)

    result = pytester.runpytest("--agentreplay-mode=replay")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            "*_ test_unrecorded_http_call _*",
            "replay diverged * the last step (task 0): HTTP request POST "
            "http://127.0.0.1:PORT/extra, but the recording has no more of those for this task",
            "*_ test_raw_socket_to_another_host _*",
            "replay diverged * the last step (task 0): a live network connection was "
            "attempted during replay; record what it fetches*",
            "  actual:   socket connect to 192.0.2.1:9",
            "  call site: */test_network.py:* in test_raw_socket_to_another_host",
            "*_ test_raw_socket_to_loopback _*",
            "  actual:   socket connect to 127.0.0.1:*",
            "*_ test_swallowed_divergence _*",
            "the test passed, but its replay diverged (the DivergenceError was caught inside "
            "the test):",
            "replay diverged * the recording *",
        ]
    )
    assert socket.socket.connect is socket.SocketType.connect  # the guard is gone


FLAKY = (
    ASK
    + """
import os


def test_flaky(server, agent_cassette):
    answer = ask(server, "status?")
    assert os.environ.get("FIXED") == "1", "the agent gave up"
"""
)
FLAKY_CASSETTE = "cassettes/test_flaky/test_flaky.cassette"


def test_a_failing_recording_is_kept_replayed_by_auto_and_recorded_again_by_record(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(pytester)
    pytester.makepyfile(test_flaky=FLAKY)
    first = pytester.runpytest()
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(
        [
            "E       AssertionError: the agent gave up",
            "*- agentreplay -*",
            f"cassette: {FLAKY_CASSETTE}",
            "run:      recorded (mode auto, from default); the test failed: auto replays this "
            "failure from now on, --agentreplay-mode=record records it again",
            f"inspect:  agentreplay show {FLAKY_CASSETTE}",
        ]
    )
    assert summary(first) == [
        f"recorded {FLAKY_CASSETTE} (no cassette yet; the test "
        f"failed: auto will replay the failure, record will record it again)"
    ]
    cassette = pytester.path / FLAKY_CASSETTE
    assert outcome_error(cassette) == "AssertionError"
    assert header(cassette)["metadata"]["pytest"]["nodeid"] == "test_flaky.py::test_flaky"

    # auto never goes live for a test that has a cassette: it replays the failure
    monkeypatch.setenv("FIXED", "1")
    replayed = pytester.runpytest()
    replayed.assert_outcomes(passed=1)  # the fix was in the test, not in the agent's calls
    lines = summary(replayed)
    assert lines[0].startswith(f"replayed {FLAKY_CASSETTE}: not reproduced: recorded Assert")
    assert lines[1:] == ["1 cassette replayed"]
    assert outcome_error(cassette) == "AssertionError"  # the cassette is left as it was
    monkeypatch.delenv("FIXED")
    again = pytester.runpytest("--agentreplay-mode=replay")  # debug the failure offline
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(
        [
            "E       AssertionError: the agent gave up",
            "run:      replayed (mode replay, from --agentreplay-mode); recorded from a failing "
            "test: record it again with --agentreplay-mode=record",
        ]
    )

    monkeypatch.setenv("FIXED", "1")
    second = pytester.runpytest("--agentreplay-mode=record")
    second.assert_outcomes(passed=1)
    assert summary(second) == [
        f"re-recorded {FLAKY_CASSETTE} (the previous recording came from a failing test)"
    ]
    assert outcome_error(cassette) is None


HOOKED_CONFTEST = """

import json

from agentreplay.session import DefaultMatcher


class IgnoreRequestId:
    def diff(self, expected, actual):
        strip = lambda info: dataclasses.replace(info, body=json.dumps(
            {k: v for k, v in json.loads(info.body).items() if k != "request_id"}).encode())
        return DefaultMatcher().diff(strip(expected), strip(actual))


def pytest_agentreplay_configure(config, settings):
    settings.redactions.append(Redaction(hooks=[_no_port], json_paths=["$.password"]))
    settings.matchers[:] = [IgnoreRequestId()]
    settings.metadata["suite"] = "hooks"
"""


def test_the_configure_hook_adds_redactions_and_matchers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(pytester)
    pytester.makeconftest((pytester.path / "conftest.py").read_text() + HOOKED_CONFTEST)
    pytester.makepyfile(
        test_login="""
import os

import httpx


def test_login(server, agent_cassette):
    body = {"user": "ann", "password": "hunter2", "request_id": os.environ["REQUEST_ID"]}
    assert httpx.post(server.url + "/login", json=body).status_code == 200
"""
    )
    monkeypatch.setenv("REQUEST_ID", "1")
    pytester.runpytest().assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes/test_login/test_login.cassette"
    assert b"hunter2" not in b"".join(
        bytes(getattr(event, "body", b"")) for event in _events(cassette)
    )
    assert header(cassette)["metadata"]["suite"] == "hooks"

    monkeypatch.setenv("REQUEST_ID", "2")
    pytester.runpytest("--agentreplay-mode=replay").assert_outcomes(passed=1)


def _events(path: object) -> list[object]:
    import agentreplay

    with agentreplay.open(path) as cassette:  # type: ignore[arg-type]
        return list(cassette.events())
