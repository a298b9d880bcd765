"""The steps of a run: a virtual list that draws only the lines on screen.

It holds one small `StepRow` per step (not the decoded steps), lays them out
as a tree or by task (`rows.layout`), and renders each visible line on demand
through Textual's line API, so a run of 100,000 steps scrolls like one of ten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

import agentreplay.humanize as fmt
from agentreplay.tui.rows import Line, StepRow, layout

__all__ = ["StepList"]

NAME_MIN = 14
"""Cells the name column keeps before a narrower list leaves out other columns."""

KIND_MARKS = {"llm": "L", "http": "H", "tool": "T", "span": "S"}
"""One letter per kind of step; the help screen says what each means."""


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    title: str
    width: int
    right: bool = False


class StepList(ScrollView, can_focus=True, inherit_bindings=False):
    """The steps of a run, one line each, with a cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "step-list--header",
        "step-list--cursor",
        "step-list--error",
        "step-list--open",
        "step-list--group",
        "step-list--dim",
        "step-list--kind-llm",
        "step-list--kind-http",
        "step-list--kind-tool",
        "step-list--kind-span",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_fold", "Fold or unfold", id="steps.fold", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to another step."""

        def __init__(self, step_list: StepList, number: int) -> None:
            super().__init__()
            self.step_list = step_list
            self.number = number

        @property
        def control(self) -> StepList:
            return self.step_list

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    by_task: reactive[bool] = reactive(False, init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: list[StepRow] = []
        self._lines: list[Line] = []
        self._line_of: dict[int, int] = {}
        self._folded: set[int] = set()
        self._task_width = 4
        self._tasks = 1

    # -- data ---------------------------------------------------------------
    def set_rows(self, rows: list[StepRow]) -> None:
        """Show ``rows`` (step ``n`` at index ``n - 1``), the cursor on the first."""
        self._rows = rows
        self._measure()
        self._relayout(keep=None)
        if self._lines:
            self.cursor = 0

    def update_rows(self, rows: Iterable[StepRow]) -> None:
        """Replace the rows of these steps (decoded since they were first shown)."""
        for row in rows:
            if 1 <= row.number <= len(self._rows):
                self._rows[row.number - 1] = row
        self.refresh()

    def _measure(self) -> None:
        tasks = {row.task for row in self._rows}
        self._tasks = len(tasks)
        self._task_width = max([4, *(len(task) for task in tasks)])

    def _relayout(self, keep: int | None) -> None:
        self._lines = layout(self._rows, by_task=self.by_task, folded=self._folded)
        self._line_of = {line.number: i for i, line in enumerate(self._lines) if line.number}
        self.virtual_size = Size(self.size.width, len(self._lines) + 1)
        if keep is not None and keep in self._line_of:
            self.cursor = self._line_of[keep]
        elif self._lines:
            self.cursor = min(self.cursor, len(self._lines) - 1)
        self.refresh()

    @property
    def rows(self) -> list[StepRow]:
        return self._rows

    @property
    def current(self) -> int:
        """The number of the step under the cursor (0 on a task heading or when empty)."""
        if not self._lines:
            return 0
        return self._lines[self.cursor].number

    def row(self, number: int) -> StepRow | None:
        return self._rows[number - 1] if 1 <= number <= len(self._rows) else None

    # -- moving ---------------------------------------------------------------
    def move(self, delta: int) -> None:
        if self._lines:
            self.cursor = max(0, min(len(self._lines) - 1, self.cursor + delta))

    def move_to_line(self, index: int) -> None:
        if self._lines:
            self.cursor = max(0, min(len(self._lines) - 1, index))

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def select(self, number: int) -> bool:
        """Put the cursor on step ``number``, unfolding the spans that hide it."""
        if not 1 <= number <= len(self._rows):
            return False
        if number not in self._line_of:
            parent = self._rows[number - 1].parent
            while parent:
                self._folded.discard(parent)
                parent = self._rows[parent - 1].parent if parent <= len(self._rows) else 0
            self._relayout(keep=None)
        if number not in self._line_of:
            return False
        self.cursor = self._line_of[number]
        return True

    def find(self, predicate: Callable[[StepRow], bool], forward: bool = True) -> int | None:
        """The next step after the current one (in run order, wrapping) that matches."""
        count = len(self._rows)
        if not count:
            return None
        start = self.current or 0
        for offset in range(1, count + 1):
            number = (start - 1 + (offset if forward else -offset)) % count + 1
            if predicate(self._rows[number - 1]):
                return number
        return None

    def watch_cursor(self, cursor: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        number = self.current
        if number:
            self.post_message(self.Highlighted(self, number))

    def watch_by_task(self) -> None:
        self._relayout(keep=self.current or None)

    def action_toggle_fold(self) -> None:
        line = self._lines[self.cursor] if self._lines else None
        if line is None or not line.parent_of:
            return
        self._folded ^= {line.number}
        self._relayout(keep=line.number)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._lines) + 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            index = self.scroll_offset.y + event.y - 1
            if index < len(self._lines):
                self.cursor = index

    # -- drawing --------------------------------------------------------------
    def _columns(self, width: int) -> list[_Column]:
        number = _Column("n", "#", max(1, len(str(len(self._rows)))), right=True)
        columns = [number, _Column("kind", " ", 1), _Column("name", "step", 0)]
        has_llm = any(row.kind == "llm" for row in self._rows[:2000])
        extra = [_Column("duration", "time", 7, right=True)]
        if self._tasks > 1:
            extra.append(_Column("task", "task", min(self._task_width, 8)))
        if has_llm:
            extra += [_Column("tokens", "tokens", 11, right=True)]
            extra += [_Column("ttft", "TTFT", 6, right=True)]
        status = _Column("status", "", 1)
        used = sum(c.width + 1 for c in columns) + status.width
        for column in extra:
            if width - used - (column.width + 1) < NAME_MIN:
                break
            columns.append(column)
            used += column.width + 1
        if width - used >= NAME_MIN + 14:
            status = _Column("status", "status", 14)
        columns.append(status)
        return columns

    def _cells(self, row: StepRow, columns: list[_Column], line: Line) -> list[tuple[str, str]]:
        """(text, component class or "") per column."""
        cells = []
        for column in columns:
            key, style = column.key, ""
            if key == "n":
                text = str(row.number)
            elif key == "kind":
                text, style = KIND_MARKS.get(row.kind, "?"), f"step-list--kind-{row.kind}"
            elif key == "name":
                marker = ("▸ " if line.folded else "▾ ") if line.parent_of else ""
                text = "  " * line.depth + marker + row.name
            elif key == "duration":
                text = fmt.seconds(row.duration) if row.duration is not None else "…"
            elif key == "task":
                text = row.task
            elif key == "tokens":
                text = _tokens(row)
            elif key == "ttft":
                text = fmt.seconds(row.ttft) if row.ttft is not None else ""
            else:
                text = _status(row, column.width)
            cells.append((text, style))
        return cells

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        columns = self._columns(width)
        name_width = max(4, width - sum(c.width + 1 for c in columns if c.key != "name") - 1)
        if y == 0:
            style = base + self.get_component_rich_style("step-list--header")
            titles = [(c.title, "") for c in columns]
            return self._strip(titles, columns, name_width, style, width, False)
        index = self.scroll_offset.y + y - 1
        if index >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        style = base
        plain = index != self.cursor
        if line.number == 0:
            style += self.get_component_rich_style("step-list--group")
        else:
            row = self._rows[line.number - 1]
            plain = plain and row.status == "ok"
            if row.status == "error":
                style += self.get_component_rich_style("step-list--error")
            elif row.status == "open":
                style += self.get_component_rich_style("step-list--open")
            elif row.status == "cancelled":
                style += self.get_component_rich_style("step-list--dim")
        if index == self.cursor:
            style += self.get_component_rich_style("step-list--cursor")
        if line.number == 0:
            text = f"task {line.group} · {fmt.plural(line.group_size, 'step')}"
            return Strip([Segment(text[:width].ljust(width), style)])
        cells = self._cells(self._rows[line.number - 1], columns, line)
        return self._strip(cells, columns, name_width, style, width, plain)

    def _strip(
        self,
        cells: list[tuple[str, str]],
        columns: list[_Column],
        name_width: int,
        style: Style,
        width: int,
        colour_kinds: bool,
    ) -> Strip:
        segments = []
        for (text, component), column in zip(cells, columns, strict=True):
            size = name_width if column.key == "name" else column.width
            text = _fit(text, size, column.right)
            cell_style = style
            if component and colour_kinds:
                cell_style = style + self.get_component_rich_style(component)
            segments.append(Segment(text, cell_style))
            segments.append(Segment(" ", style))
        strip = Strip(segments)
        return strip.crop_extend(0, width, style)


def _fit(text: str, width: int, right: bool) -> str:
    if cell_len(text) > width:
        text = text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if right else text.ljust(width)


def _tokens(row: StepRow) -> str:
    if row.kind != "llm" or not row.decoded:
        return ""
    if row.input_tokens is None and row.output_tokens is None:
        return "-"
    ins = "-" if row.input_tokens is None else f"{row.input_tokens:,}"
    outs = "-" if row.output_tokens is None else f"{row.output_tokens:,}"
    return f"{ins}/{outs}"


def _status(row: StepRow, width: int) -> str:
    if row.status == "error":
        return "✗" if width == 1 else f"✗ {row.error or 'error'}"
    if row.status == "open":
        return "…" if width == 1 else "… unfinished"
    if row.status == "cancelled":  # cut short by the program itself: not a failure
        return "-" if width == 1 else "- cancelled"
    return " " if width == 1 else "ok"
