"""agentreplay show: the step table, one step in full, and JSON."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay.cassette.frames import FrameReader
from agentreplay.cassette.reader import open_reader
from agentreplay.cli import main
from tests.agents import record_agent
from tests.servers import ToolServer


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("show") / "agent.cassette"
    record_agent(path)
    return path


def test_show_prints_a_table_of_steps_and_a_summary(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(recorded)]) == 0
    out = capsys.readouterr().out
    for column in ("kind", "task", "duration", "TTFT", "tokens in/out", "cost", "status"):
        assert column in out
    assert "gpt-4o" in out and "120 / 30" in out and "/tool/Paris" in out
    assert "0.1.2" in out  # a concurrent tool call's task
    assert "6 steps · 2 LLM calls · 320 in / 42 out tokens · $" in out
    assert "returned 'Paris is sunny and Lyon is rainy.' after step 6" in out


def test_show_step_prints_the_prompt_actually_sent(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(recorded), "--step", "6"]) == 0
    out = capsys.readouterr().out
    assert "Weather in Paris and Lyon?" in out  # the user message, as sent
    assert "tool (for call_" in out  # a tool result message with its call id
    assert "Paris is sunny and Lyon is rainy." in out
    assert "time to first token" in out and "tokens" in out


def test_show_json_is_machine_readable(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(recorded), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["kind"] for s in data["steps"]] == ["llm", "http", "http", "tool", "span", "llm"]
    assert data["steps"][0]["llm"]["tool_calls"][0]["name"] == "weather"
    assert data["summary"]["llm_calls"] == 2
    assert data["outcome"]["error"] is None
    assert main(["show", str(recorded), "--step", "1", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one["number"] == 1 and one["llm"]["input_tokens"] == 120


def test_show_of_a_missing_step(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(recorded), "--step", "99"]) == 2
    assert "has 6 steps" in capsys.readouterr().err


def test_show_of_a_cut_file_shows_what_was_written_before_the_cut(
    server: ToolServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.cassette"
    with agentreplay.record(path), httpx.Client() as client:
        client.get(f"{server.url}/tool/1")
        time.sleep(0.5)  # the writer flushes step 1 in a frame of its own meanwhile
        client.get(f"{server.url}/tool/2")
    with open_reader(path) as reader:
        first, second = (step.first_frame for step in reader.step_infos())
    assert first < second, "step 1 was not flushed in a frame of its own"
    data = path.read_bytes()

    (tmp_path / "cut.cassette").write_bytes(data[: second + 10])  # into step 2's frame
    assert main(["show", str(tmp_path / "cut.cassette")]) == 0
    captured = capsys.readouterr()
    assert "damaged or truncated" in captured.err
    assert "1 step · " in captured.out  # what could be read is still shown
    assert "no outcome (the recording stopped before the run ended)" in captured.out

    with path.open("rb") as file:
        *_, start = FrameReader(file).read_header()  # where the first frame of events is
    (tmp_path / "cut.cassette").write_bytes(data[: start + 10])  # into that frame
    assert main(["show", str(tmp_path / "cut.cassette")]) == 3
    err = capsys.readouterr().err
    assert f"at byte {start}: " in err and "damaged or truncated there" in err
    assert err.count("\n") == 1


def test_show_of_a_damaged_piece_shows_the_steps_before_it_and_no_invented_ending(
    server: ToolServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.cassette"
    with agentreplay.record(path), httpx.Client() as client:
        client.get(f"{server.url}/tool/1")
        time.sleep(0.5)  # step 1 in a piece of its own
        client.get(f"{server.url}/tool/2")
        time.sleep(0.5)
        client.get(f"{server.url}/tool/3")
    with open_reader(path) as reader:
        second = [step.first_frame for step in reader.step_infos()][1]
    data = bytearray(path.read_bytes())
    data[second + 12] ^= 0xFF  # inside step 2's piece; the index after it is sound
    (tmp_path / "bad.cassette").write_bytes(data)
    assert main(["show", str(tmp_path / "bad.cassette")]) == 0
    captured = capsys.readouterr()
    assert "1 step · " in captured.out
    assert "outcome unreadable (the cassette is damaged)" in captured.out
    assert "stopped before the run ended" not in captured.out
    [warning] = captured.err.splitlines()
    assert f"damaged or truncated at byte {second}: " in warning
    assert "decompressobj" not in warning


def test_show_step_of_a_plain_http_call_shows_its_headers_and_bodies(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(recorded), "--step", "2"]) == 0
    out = capsys.readouterr().out
    for title in ("request headers", "request body", "response headers", "response body"):
        assert title in out
    assert "User-Agent:" in out and "content-type:" in out
    assert '"answer": "result-' in out  # the JSON body, indented for reading


def test_show_step_json_of_a_plain_http_call_has_its_exchange(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(recorded), "--step", "2", "--json"]) == 0
    step = json.loads(capsys.readouterr().out)
    assert step["kind"] == "http"
    assert ["Accept", "*/*"] in step["request"]["headers"]
    assert step["request"]["body"] == {"size": 0, "encoding": "utf-8", "data": ""}
    assert ["content-type", "application/json"] in step["response"]["headers"]
    body = step["response"]["body"]
    assert body["encoding"] == "utf-8" and json.loads(body["data"])["answer"].startswith("result-")
    assert body["size"] == len(body["data"].encode())


def test_show_json_of_the_whole_run_does_not_carry_bodies(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(recorded), "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert all("request" not in step and "response" not in step for step in steps)


@pytest.mark.parametrize("width", [80, 100])
def test_the_table_fits_a_narrow_terminal_by_cutting_only_the_name(
    recorded: Path, width: int
) -> None:
    from rich.console import Console

    from agentreplay.cli.show import _table

    with agentreplay.open(recorded) as cassette:
        table, *_ = _table(cassette, 0, width)
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(table)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert max(len(line) for line in lines) <= width
    out = "\n".join(lines)
    for cell in ("120 / 30", "200 / 12", "ok 200", "0.1.2", "gpt-4o", "remember", "kind"):
        assert cell in out  # every short column whole, on one line
    assert len(lines) == 6 + 4  # a row per step, plus the rules and the header
    assert "GET http" in out and "…" in out  # the URL is cut, not wrapped


def test_a_narrow_table_leaves_out_columns_empty_in_every_row() -> None:
    from rich.console import Console

    from agentreplay.cli.show import _table

    example = Path(__file__).parents[2] / "cassettes/examples/answers_an_order_question.cassette"
    for width, has_cost in ((80, False), (150, True)):
        with agentreplay.open(example) as cassette:
            table, *_ = _table(cassette, 0, width)  # a local model: no price, no cost
        console = Console(width=width, file=io.StringIO(), color_system=None)
        console.print(table)
        header = console.file.getvalue().splitlines()[1]  # type: ignore[attr-defined]
        assert ("cost" in header) is has_cost
        assert "status" in header


def test_a_cassette_killed_before_its_first_event_gets_one_line_from_show_and_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentreplay.cassette import CassetteWriter
    from agentreplay.cassette.reader import NO_EVENTS

    path = tmp_path / "killed.cassette"
    CassetteWriter(path, {"run_id": "killed", "argv": ["agent.py"]}).abandon()
    lines = []
    for command in (["show", str(path)], ["show", str(path), "--step", "1"], ["replay", str(path)]):
        assert main(command) == 3
        captured = capsys.readouterr()
        assert captured.out == ""
        lines.append(captured.err)
    assert lines == [f"agentreplay: error: {path}: {NO_EVENTS}\n"] * 3
    with pytest.raises(agentreplay.CassetteError) as raised, agentreplay.replay(path):
        pass
    assert str(raised.value) == f"{path}: {NO_EVENTS}"


@pytest.mark.parametrize(
    "command", [["show"], ["show", "--events"], ["export", "--format", "jsonl"]]
)
def test_a_damaged_cassette_is_warned_about_with_the_tools_prefix(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(recorded.read_bytes()[:-40])  # the index and footer are gone
    assert main([command[0], str(damaged), *command[1:]]) == 0
    warned = capsys.readouterr().err.splitlines()
    assert len(warned) == 1
    assert warned[0].startswith(f"agentreplay: warning: cassette {damaged} is damaged or ")
