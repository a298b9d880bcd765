"""agentreplay diff A B: the verdict line, the aligned table, pairs in full, JSON, errors."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text

import agentreplay
from agentreplay.cli import main
from agentreplay.cli.diff_view import _cells, _shown
from agentreplay.rundiff import Reads, Row, RunDiff, StepRef, Verdict, diff
from tests.rundiff.runs import Servers, record_run, servers

__all__ = ["servers"]  # the fixture

TERSE = "You are a terse support agent for a coffee shop."


@pytest.fixture
def runs(servers: Servers, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A run, the same run again, and one whose model also asked for the shipping status
    and whose system prompt was made terse."""
    a = record_run(tmp_path / "a.cassette", servers)
    same = record_run(tmp_path / "same.cassette", servers)
    servers.script.tools = ["lookup_order", "shipping_status"]
    b = record_run(tmp_path / "b.cassette", servers, system=TERSE)
    return a, same, b


def test_identical_runs_exit_0(
    runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, same, _ = runs
    assert main(["diff", str(a), str(same)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == ["identical", f"A: {a}", f"B: {same}"]
    assert "outcome: the same in both" in out


def test_different_runs_show_the_verdict_the_table_and_the_first_divergence(
    runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, _, b = runs
    assert main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "2 changed, 0 only in A, 1 only in B; first divergence at step 1 / step 1"
    table = [line for line in lines if line.count("│") == 8]
    cells = [[cell.strip() for cell in line.strip("│").split("│")][:5] for line in table]
    assert [cell[:3] + cell[4:] for cell in cells] == [
        ["1", "1", "llm", "changed"],
        ["2", "2", "http", "same"],
        ["-", "3", "http", "only in B"],
        ["3", "4", "llm", "changed"],
        ["4", "5", "tool", "same"],
    ]
    assert "first divergence" in out
    assert "messages[0] (system).content: You are a [-helpful-]{+terse+} support agent" in out
    assert "tool_calls[1]: added" in out and "shipping_status" in out
    assert "+    You are a terse support agent for a coffee shop." in out  # the unified diff
    assert "+[tool call] shipping_status" in out


def test_step_shows_one_pair_by_either_runs_number(
    runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, _, b = runs
    assert main(["diff", str(a), str(b), "--step", "3"]) == 1
    out = capsys.readouterr().out
    assert "A step 3 / B step 4" in out
    assert "messages[4] (tool): added" in out
    assert main(["diff", str(a), str(b), "--step", "b:3"]) == 1
    assert "A - / B step 3" in capsys.readouterr().out
    assert main(["diff", str(a), str(b), "--step", "7"]) == 2
    err = capsys.readouterr().err
    assert err == f"agentreplay: error: step 7 is not in {a} (it has 4 steps)\n"


def test_all_expands_every_differing_pair(
    runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, _, b = runs
    assert main(["diff", str(a), str(b), "--all"]) == 1
    out = capsys.readouterr().out
    assert "A step 1 / B step 1" in out and "A - / B step 3" in out and "A step 3 / B step 4" in out


def test_ignore_leaves_a_field_out_of_the_verdict(
    runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, same, _ = runs
    assert main(["diff", str(a), str(same), "--ignore", "!tool_calls[*].id"]) == 1
    assert "tool_calls[0].id" in capsys.readouterr().out
    assert main(["diff", str(a), str(same), "--ignore", "!nothing"]) == 2
    assert "takes nothing back" in capsys.readouterr().err


def test_json_round_trips_into_the_typed_result(
    runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, _, b = runs
    assert main(["diff", str(a), str(b), "--json"]) == 1
    loaded = RunDiff.from_plain(json.loads(capsys.readouterr().out))
    result = diff(a, b)
    assert loaded == result
    assert [row.changes for row in loaded.rows] == [row.changes for row in result.rows]
    assert loaded.summary() == result.summary()


def _one_error_line(*args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "agentreplay", "diff", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    return done.returncode, done.stderr


def test_bad_input_is_one_line_and_exit_3(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, _, _ = runs
    code, err = _one_error_line(str(a), str(tmp_path / "missing.cassette"))
    assert code == 3 and "cannot open cassette: No such file or directory" in err
    text = tmp_path / "notes.txt"
    text.write_text("not a cassette\n")
    code, err = _one_error_line(str(text), str(a))
    assert code == 3 and "not an agentreplay cassette" in err
    data = a.read_bytes()
    cut = tmp_path / "cut.cassette"
    cut.write_bytes(data[: len(data) * 2 // 3])
    code, err = _one_error_line(str(a), str(cut))
    assert code == 3 and f"{cut}: at byte" in err
    assert "Traceback" not in err


def _row(index: int, verdict: Verdict) -> Row:
    ref = StepRef(index + 1, "0", "http", "GET /", "ok")
    return Row(index, ref, ref, verdict)


def test_long_stretches_of_same_steps_are_counted_not_listed() -> None:
    rows = [_row(i, Verdict.CHANGED if i in (10, 30) else Verdict.SAME) for i in range(40)]
    shown = _shown(rows, 2)
    assert [item if isinstance(item, int) else item.index for item in shown] == [
        8,
        *range(8, 13),
        15,
        *range(28, 33),
        7,
    ]
    assert _shown(rows, -1) == rows


@pytest.mark.parametrize(
    ("verdict", "words"),
    [
        (Verdict.SAME, "same (clock values differ)"),
        (Verdict.CHANGED, "changed (and clock values differ)"),
    ],
)
def test_reads_that_differ_are_said_beside_the_verdict_not_as_it(
    verdict: Verdict, words: str
) -> None:
    """Clock and entropy values never make the verdict: beside a change they are an aside."""
    row = dataclasses.replace(_row(0, verdict), reads=Reads((2, 2), (0, 0), True))
    assert Text.from_markup(_cells(row)[4]).plain == words


def _failed(path: Path, message: str) -> Path:
    with pytest.raises(ValueError), agentreplay.record(path):
        raise ValueError(message)
    return path


def test_an_error_of_several_lines_is_one_line_in_the_summary_and_whole_below(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _failed(tmp_path / "a.cassette", "no order A-1\n  expected: GET /orders/1\n  actual: none")
    b = _failed(tmp_path / "b.cassette", "no order B-2\n  expected: GET /orders/2\n  actual: none")
    assert main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "\\n" not in out  # no repr of a newline anywhere
    assert (
        "outcome: A raised ValueError('no order A-1 …') · B raised ValueError('no order B-2 …')"
        in out
    )
    assert "A's error:\n  no order A-1\n    expected: GET /orders/1\n    actual: none\n" in out
    assert "B's error:\n  no order B-2\n    expected: GET /orders/2\n" in out
