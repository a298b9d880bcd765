"""What the step list shows of each step, and the order it shows them in.

A row starts from the cassette's index (`StepInfo`: no event decoded), so the
first screen of a run of any size paints at once; it is filled in with the
decoded step (`Step`: tokens, TTFT, errors) when the background pass reaches it.
The lines are the rows laid out as a tree (spans hold their children), or
grouped by logical task, with folded spans' children left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from agentreplay.cassette.tracking import StepInfo
from agentreplay.llm import detect_api
from agentreplay.steps import Step

__all__ = ["Line", "StepRow", "http_name", "layout", "row_from_info", "row_from_step"]


@dataclass(slots=True)
class StepRow:
    """One step as the list shows it."""

    number: int
    kind: str  # "llm" | "http" | "tool" | "span"
    name: str
    task: str
    parent: int
    duration: float | None
    status: str  # "ok" | "error" | "cancelled" | "open"
    error: str | None = None
    ttft: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    decoded: bool = False


def http_name(method: str, url: str) -> str:
    """``GET /path?query (host)``: the path first, which a narrow column keeps."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return f"{method} {path} ({parts.netloc})" if parts.netloc else f"{method} {url}"


def row_from_info(info: StepInfo) -> StepRow:
    kind, name = info.kind, info.name
    if kind == "http":
        method, _, url = name.partition(" ")
        name = http_name(method, url)
        if detect_api(method, url) is not None:
            kind = "llm"
    duration = None if info.end_at is None else (info.end_at - info.start_at) / 1e9
    status = "open" if info.end_at is None else "ok"
    return StepRow(info.number, kind, name, info.task, info.parent, duration, status)


def row_from_step(step: Step) -> StepRow:
    llm = step.llm
    name = step.label
    if step.kind == "http" and step.method and step.url:
        name = http_name(step.method, step.url)
    return StepRow(
        step.number,
        step.kind,
        name,
        step.task,
        step.parent,
        step.duration,
        step.status,
        step.error,
        llm.ttft if llm is not None else None,
        llm.input_tokens if llm is not None else None,
        llm.output_tokens if llm is not None else None,
        step.cost,
        decoded=True,
    )


@dataclass(frozen=True, slots=True)
class Line:
    """A line of the step list: a step at some depth, or the heading of a task group."""

    number: int  # 0 for a group heading
    depth: int = 0
    folded: bool = False  # a span whose children are hidden
    parent_of: int = 0  # how many children the step has
    group: str = ""  # the task of a group heading
    group_size: int = 0


def layout(rows: list[StepRow], *, by_task: bool, folded: set[int]) -> list[Line]:
    """The lines to show: a tree by parent in step order, or one tree per task."""
    if not by_task:
        return _tree(rows, folded, lambda row: row.parent)
    tasks: dict[str, list[StepRow]] = {}
    for row in rows:
        tasks.setdefault(row.task, []).append(row)
    lines: list[Line] = []
    for task in sorted(tasks, key=_task_key):
        group = tasks[task]
        members = {row.number for row in group}
        lines.append(Line(0, group=task, group_size=len(group)))
        # Within a task, a step whose parent ran in another task starts a tree of its own.
        lines += _tree(group, folded, _parent_within(members))
    return lines


def _parent_within(members: set[int]) -> Callable[[StepRow], int]:
    return lambda row: row.parent if row.parent in members else 0


def _task_key(task: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in task.split("."))


def _tree(rows: list[StepRow], folded: set[int], parent: Callable[[StepRow], int]) -> list[Line]:
    known = {row.number for row in rows}
    children: dict[int, list[int]] = {}
    for row in rows:
        up = parent(row)
        children.setdefault(up if up in known else 0, []).append(row.number)
    lines: list[Line] = []
    stack = [(number, 0) for number in reversed(children.get(0, []))]
    while stack:
        number, depth = stack.pop()
        below = children.get(number, [])
        is_folded = number in folded and bool(below)
        lines.append(Line(number, depth, is_folded, len(below)))
        if not is_folded:
            stack.extend((child, depth + 1) for child in reversed(below))
    return lines
