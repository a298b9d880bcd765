"""Laying out the step list: a tree by parent, folds, and groups by task."""

from __future__ import annotations

from agentreplay.cassette.tracking import StepInfo
from agentreplay.tui.rows import StepRow, layout, row_from_info


def _row(number: int, parent: int = 0, task: str = "0", kind: str = "tool") -> StepRow:
    return StepRow(number, kind, f"s{number}", task, parent, 0.1, "ok")


ROWS = [
    _row(1, kind="span"),
    _row(2, parent=1, task="0.1"),
    _row(3, task="0.2"),
    _row(4, parent=1, task="0.1"),
    _row(5),
]


def test_children_follow_their_span_however_the_tasks_interleave() -> None:
    lines = layout(ROWS, by_task=False, folded=set())
    assert [(line.number, line.depth) for line in lines] == [(1, 0), (2, 1), (4, 1), (3, 0), (5, 0)]
    assert lines[0].parent_of == 2


def test_a_folded_span_hides_its_children() -> None:
    lines = layout(ROWS, by_task=False, folded={1})
    assert [line.number for line in lines] == [1, 3, 5]
    assert lines[0].folded


def test_grouping_by_task_puts_a_heading_before_each_tasks_steps() -> None:
    lines = layout(ROWS, by_task=True, folded=set())
    shown = [(line.group, line.group_size) if line.number == 0 else line.number for line in lines]
    # A child whose span ran in another task starts a tree of its own in its task.
    assert shown == [("0", 2), 1, 5, ("0.1", 2), 2, 4, ("0.2", 1), 3]
    assert all(line.depth == 0 for line in lines)


def test_tasks_are_grouped_in_numeric_order() -> None:
    rows = [_row(1, task="0.10"), _row(2, task="0.9"), _row(3, task="0")]
    groups = [line.group for line in layout(rows, by_task=True, folded=set()) if not line.number]
    assert groups == ["0", "0.9", "0.10"]


def test_a_row_from_the_index_knows_an_llm_call_by_its_url() -> None:
    llm = StepInfo(1, "http", "POST https://api.openai.com/v1/chat/completions", "0", 0, 0, 5)
    plain = StepInfo(2, "http", "GET https://example.com/x", "0", 0, 6, None)
    assert row_from_info(llm).kind == "llm" and row_from_info(llm).duration == 5e-9
    assert row_from_info(plain).kind == "http" and row_from_info(plain).status == "open"
