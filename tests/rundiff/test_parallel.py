"""Run B read in a second process while this one reads run A: the same diff, the same
errors and warnings as reading both here."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import pytest

import agentreplay
import agentreplay.rundiff.parallel as parallel
from agentreplay.cassette import CassetteWriter, ClockRead, ToolCall, ToolResult
from agentreplay.errors import CassetteError, CassetteWarning
from agentreplay.rundiff import RunDiff, diff
from tests.rundiff.runs import Servers, openai_agent, servers

__all__ = ["servers"]  # the fixture


def _record(path: Path, servers: Servers) -> Path:
    with agentreplay.record(path):
        openai_agent(servers)
        with agentreplay.step("stamp"):  # a step that reads the clock and draws entropy
            print(time.time(), random.random(), file=io.StringIO())
    return path


class _Watch:
    """Counts what the second process delivered (None when it did not)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.delivered: list[object] = []
        collect = parallel._collect

        def watched(helper: object) -> object:
            found = collect(helper)  # type: ignore[arg-type]
            self.delivered.append(found)
            return found

        monkeypatch.setattr(parallel, "_collect", watched)
        monkeypatch.setattr(parallel, "PARALLEL_BYTES", 0)
        # A terminal's processes each hash text their own way (the test session pins it).
        monkeypatch.delenv("PYTHONHASHSEED", raising=False)


def _here(a: Path, b: Path, monkeypatch: pytest.MonkeyPatch) -> RunDiff:
    with monkeypatch.context() as patch:
        patch.setattr(parallel, "PARALLEL_BYTES", 1 << 62)
        return diff(a, b)


def test_run_b_read_in_a_second_process_gives_the_same_diff(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _record(tmp_path / "a.cassette", servers)
    servers.script.answer = "Order A-1001 is on its way."
    b = _record(tmp_path / "b.cassette", servers)
    expected = _here(a, b, monkeypatch)
    watch = _Watch(monkeypatch)
    found = diff(a, b)
    assert len(watch.delivered) == 1 and watch.delivered[0] is not None
    assert found == expected
    assert found.to_plain() == expected.to_plain()
    assert not found.identical and found.row(a=5).reads is not None  # clocks read apart


def test_a_run_against_itself_reads_the_same_clocks_in_both_processes(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _record(tmp_path / "a.cassette", servers)
    watch = _Watch(monkeypatch)
    found = diff(a, a)
    assert watch.delivered[0] is not None
    assert found.identical
    assert [row.reads for row in found.rows] == [None] * len(found.rows)


def test_a_damaged_run_b_raises_the_error_reading_it_here_raises(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _record(tmp_path / "a.cassette", servers)
    data = a.read_bytes()
    cut = tmp_path / "cut.cassette"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CassetteError) as here:
        _here(a, cut, monkeypatch)
    watch = _Watch(monkeypatch)
    with pytest.raises(CassetteError) as there:
        diff(a, cut)
    assert watch.delivered == [None]  # the second process gave up; this one read B
    assert str(there.value) == str(here.value)


def _unclosed(path: Path, value: str) -> Path:
    writer = CassetteWriter(path, {"run": "unclosed"}, background=False)
    for n in range(3):
        seq = 3 * n + 1
        writer.append(ToolCall("0", seq, seq * 1000, "remember", [f"note {n}"], {}))
        writer.append(ClockRead("0", seq + 1, seq * 1000 + 1, "wall", 1.5))
        writer.append(ToolResult("0", seq + 2, seq * 1000 + 2, seq, value, None))
    writer.flush()
    writer.abandon()
    return path


def test_warnings_raised_reading_run_b_there_are_raised_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _unclosed(tmp_path / "a.cassette", "kept")
    b = _unclosed(tmp_path / "b.cassette", "changed")
    with pytest.warns(CassetteWarning) as here:
        expected = _here(a, b, monkeypatch)
    watch = _Watch(monkeypatch)
    with pytest.warns(CassetteWarning) as there:
        found = diff(a, b)
    assert watch.delivered[0] is not None
    assert found == expected and found.summary().startswith("3 changed")
    assert sorted(str(w.message) for w in there) == sorted(str(w.message) for w in here)
    assert any("b.cassette was not closed" in str(w.message) for w in there)
