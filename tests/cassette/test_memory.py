"""A run held in memory: bounded, truncated past its budget, written out whole."""

from __future__ import annotations

from pathlib import Path

import agentreplay
from agentreplay.cassette.events import ClockRead, HttpChunk, RunOutcome
from agentreplay.cassette.memory import MemoryRun, approx_size


def test_past_its_budget_a_run_holds_only_its_outcome(tmp_path: Path) -> None:
    run = MemoryRun(max_bytes=1000)
    for seq in range(10):
        run.append_chunk("0", seq, seq, 0, b"x" * 300)  # as a recorder hands chunks over
    assert run.events[0] == HttpChunk("0", 0, 0, 0, b"x" * 300)
    assert run.truncated and len(run.events) == 2 and run.size <= 1000  # 348 bytes each
    run.append(RunOutcome("0", 10, 10, 1, "1", None))
    assert type(run.events[-1]) is RunOutcome


def test_after_close_events_from_code_still_running_are_ignored() -> None:
    run = MemoryRun(max_bytes=10_000)
    run.append(ClockRead("0", 0, 0, "wall", 1))
    run.close()
    run.append(ClockRead("0", 1, 1, "wall", 2))
    assert len(run.events) == 1


def test_the_size_counts_payloads() -> None:
    small = approx_size(HttpChunk("0", 0, 0, 0, b""))
    assert approx_size(HttpChunk("0", 0, 0, 0, b"x" * 5000)) == small + 5000


def test_a_held_run_is_written_as_a_complete_indexed_cassette(tmp_path: Path) -> None:
    run = MemoryRun(max_bytes=10_000)
    run.append(ClockRead("0", 0, 5, "wall", 1.5))
    run.append(RunOutcome("0", 1, 9, 7, "7", None))
    size = run.write(tmp_path / "run.cassette", {"run_id": "abc", "metadata": {}})
    assert size == (tmp_path / "run.cassette").stat().st_size
    with agentreplay.open(tmp_path / "run.cassette") as opened:
        assert opened.header["run_id"] == "abc"
        assert opened.outcome is not None and opened.outcome.value == 7
