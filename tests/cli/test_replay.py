"""agentreplay replay: its arguments are checked against the cassette before anything runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay.cli import main
from tests.servers import ToolServer


@agentreplay.tool
def lookup(key: str) -> dict[str, str]:
    return {"key": key}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Step 1 a model call, 2 a plain HTTP call, 3 a tool, 4 a span."""
    path = tmp_path_factory.mktemp("replay") / "mixed.cassette"
    with ToolServer() as server, agentreplay.record(path):
        httpx.post(f"{server.url}/v1/chat/completions", json={"model": "m", "messages": []})
        httpx.get(f"{server.url}/tool/x")
        lookup("k")
        with agentreplay.step("plan"):
            pass
    return path


@pytest.fixture(scope="module")
def two_steps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "two.cassette"
    with agentreplay.record(path):
        with agentreplay.step("plan"):
            pass
        with agentreplay.step("act"):
            pass
    return path


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--break-at", "3"], "--break-at 3 is out of range"),
        (["--break-at", "0"], "--break-at 0 is out of range"),
        (["--override", "3=1"], "--override 3 is out of range"),
        (["--override", "0=1"], "--override 0 is out of range"),
        (["--live-after", "3"], "--live-after 3 is out of range"),
        (["--live-after", "-1"], "--live-after -1 is out of range"),
    ],
)
def test_a_step_number_the_cassette_does_not_have_is_refused(
    two_steps: Path, option: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(two_steps), *option]) == 2
    err = capsys.readouterr().err
    assert expected in err and "has 2 steps" in err
    lowest = "0" if option[0] == "--live-after" else "1"
    assert f"N must be in {lowest}..2" in err


@pytest.mark.parametrize(
    "option",
    [["--break-at", "1"], ["--break-at", "2"], ["--live-after", "0"]],
)
def test_a_step_number_in_range_gets_past_the_check(
    two_steps: Path, option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The cassette was recorded around inline code, so the launch itself refuses it next.
    assert main(["replay", str(two_steps), *option]) == 2
    err = capsys.readouterr().err
    assert "out of range" not in err and "agentreplay.replay()" in err


def test_a_missing_cassette_is_exit_3_as_with_show_and_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.cassette")
    for command in ("replay", "show", "export"):
        assert main([command, missing]) == 3
        assert f"{missing}: cannot open cassette" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["missing.json", "answers/step3"])
def test_an_override_naming_a_missing_file_says_so(
    tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", str(tmp_path / "run.cassette"), "--override", f"3={value}"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"no such file: {value}" in err and "Expecting value" not in err


def test_an_override_that_is_neither_json_nor_a_path_shows_the_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", str(tmp_path / "run.cassette"), "--override", "3={not json"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "3=...: the JSON given is invalid: Expecting property name" in err
    assert "no such file" not in err
    with pytest.raises(SystemExit):
        main(["replay", str(tmp_path / "run.cassette"), "--override", "3=Sorry, no."])
    assert """text is a JSON string: 3='"Sorry, no."'""" in capsys.readouterr().err


def test_an_override_from_a_file_or_inline_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text('"Sorry, no."', encoding="utf-8")
    missing = str(tmp_path / "run.cassette")
    for value in (str(answer), '"Sorry, no."'):
        assert main(["replay", missing, "--override", f"1={value}"]) == 3  # parsed, then no file
        assert "cannot open cassette" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("1=123", "--override 1: an LLM override must be text or an object, not 123"),
        ("1=null", "--override 1: an LLM override must be text or an object, not None"),
        ('1={"tool_calls": 5}', "--override 1: tool_calls must be a list of tool calls"),
        ('1={"tool_calls": [{"function": 5}]}', "a tool call's function must be an object"),
        ('1={"content": 5}', "--override 1: content must be text or a list of blocks"),
        ('2={"status": "abc"}', "--override 2: an HTTP override's status must be a number"),
        ('2={"status": 700}', "status must be a number in 100..599: 700"),
        ('2={"headers": [1]}', "--override 2: an HTTP override's headers must be an object"),
        ("2=5", "--override 2: an HTTP override must be an object with status"),
        ("4=1", "--override 4: step 4 is a span, which has no response"),
        ('1={"foo": 1}', "--override 1: an LLM answer has no 'foo'; it takes content, "),
        ('2={"status": 200, "bdy": 5}', "--override 2: an HTTP response has no 'bdy'"),
    ],
)
def test_an_override_that_cannot_stand_for_its_step_is_refused_before_the_run(
    mixed: Path, override: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(mixed), "--override", override]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "override",
    [
        '1="Sorry."',
        '1={"tool_calls": [{"name": "f", "arguments": {}}]}',
        '2={"status": 503}',
        '3={"key": "other"}',
        "3=null",
    ],
)
def test_an_override_that_fits_its_step_gets_past_the_check(
    mixed: Path, override: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(mixed), "--override", override]) == 2
    err = capsys.readouterr().err
    assert "--override" not in err and "agentreplay.replay()" in err


def test_the_library_form_refuses_a_bad_override_before_the_run_starts(mixed: Path) -> None:
    ran = []
    with pytest.raises(agentreplay.UsageError, match="step 9 is not in"):
        with agentreplay.replay(mixed, overrides={9: "x"}):
            ran.append(1)
    with pytest.raises(agentreplay.UsageError, match=r"^override of step 1: an LLM override"):
        with agentreplay.replay(mixed, overrides={1: 5}):
            ran.append(1)
    for key in ("2", 2.0, True):
        with pytest.raises(agentreplay.UsageError, match="step numbers are integers"):
            with agentreplay.replay(mixed, overrides={key: "x"}):  # type: ignore[dict-item]
                ran.append(1)
    assert ran == []
