"""Two runs side by side, one aligned row per line, as `agentreplay.diff` aligned them.

A row only one run has leaves a gap on the other side; changed rows and
one-sided rows take the theme's warning, error and success colours. Like the
step list, it draws only the lines on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

import agentreplay.humanize as fmt
from agentreplay.tui.rows import http_name
from agentreplay.tui.widgets.step_list import KIND_MARKS

if TYPE_CHECKING:
    from agentreplay.rundiff import Row, StepRef

__all__ = ["DiffTable"]

MARKS = {"same": " ", "changed": "≠", "only_a": "-", "only_b": "+"}
"""Between the two sides: how the row compares."""


class DiffTable(ScrollView, can_focus=True, inherit_bindings=False):
    """The aligned rows of a run diff, with a cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-table--header",
        "diff-table--cursor",
        "diff-table--changed",
        "diff-table--only-a",
        "diff-table--only-b",
    }
    BINDINGS: ClassVar[list[BindingType]] = []

    class Highlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, diff_table: DiffTable, index: int) -> None:
            super().__init__()
            self.diff_table = diff_table
            self.index = index

        @property
        def control(self) -> DiffTable:
            return self.diff_table

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []

    def set_rows(self, rows: list[Row]) -> None:
        self.rows = rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self.cursor = 0
        self.refresh()

    @property
    def current(self) -> Row | None:
        return self.rows[self.cursor] if self.rows else None

    def move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def move_to(self, index: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, index))

    def watch_cursor(self, cursor: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        if self.rows:
            self.post_message(self.Highlighted(self, cursor))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            index = self.scroll_offset.y + event.y - 1
            if index < len(self.rows):
                self.cursor = index

    # -- drawing --------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        number = max(1, len(str(len(self.rows))))
        timed = width >= 70
        side = (width - 3) // 2
        if y == 0:
            style = base + self.get_component_rich_style("diff-table--header")
            left = _cell("#", number, right=True) + "  A"
            right = _cell("#", number, right=True) + "  B"
            return _line([(left.ljust(side), style), (" · ", style), (right, style)], width, style)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        style = base
        verdict = row.verdict.value
        if verdict == "changed":
            style += self.get_component_rich_style("diff-table--changed")
        elif verdict == "only_a":
            style += self.get_component_rich_style("diff-table--only-a")
        elif verdict == "only_b":
            style += self.get_component_rich_style("diff-table--only-b")
        if index == self.cursor:
            style += self.get_component_rich_style("diff-table--cursor")
        mark = f" {MARKS.get(verdict, '?')} "
        cells = [
            (_side(row.a, number, side, timed), style),
            (mark, style),
            (_side(row.b, number, width - side - 3, timed), style),
        ]
        return _line(cells, width, style)


def _cell(text: str, width: int, right: bool = False) -> str:
    if cell_len(text) > width:
        text = text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if right else text.ljust(width)


def _side(ref: StepRef | None, number: int, width: int, timed: bool) -> str:
    """One run's step in ``width`` cells: number, kind, name and (if wide) time."""
    if ref is None:
        return " " * width
    time = f" {fmt.seconds(ref.duration):>7}" if timed and ref.duration is not None else ""
    head = f"{ref.number:>{number}} {KIND_MARKS.get(ref.kind, '?')} "
    method, _, url = ref.name.partition(" ")
    label = http_name(method, url) if ref.kind == "http" and "://" in url else ref.name
    name = _cell(label, max(1, width - len(head) - len(time)))
    return _cell(head + name + time, width)


def _line(cells: list[tuple[str, Style]], width: int, style: Style) -> Strip:
    return Strip([Segment(text, cell_style) for text, cell_style in cells]).crop_extend(
        0, width, style
    )
