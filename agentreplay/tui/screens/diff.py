"""The diff screen: two runs side by side, aligned by `agentreplay.diff`.

The diff is worked out in a worker (it reads both cassettes once); a row's
field changes are read when the cursor reaches it, in another worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from agentreplay.errors import AgentReplayError
from agentreplay.tui.navigation import OpenRun
from agentreplay.tui.widgets.diff_table import DiffTable
from agentreplay.tui.widgets.field_diff import FieldDiff
from agentreplay.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from agentreplay.rundiff import FieldChange, Row, RunDiff

__all__ = ["DiffScreen"]


class DiffScreen(Screen[None]):
    """Run A beside run B."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "move(1)", "Next row", id="diff.next", show=False),
        Binding("k,up", "move(-1)", "Previous row", id="diff.previous", show=False),
        Binding("pagedown", "page(1)", "Page down", id="diff.page_down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="diff.page_up", show=False),
        Binding("G,end", "last", "Last row", id="diff.last", show=False),
        Binding("home", "first", "First row", id="diff.first", show=False),
        Binding(
            "f", "first_divergence", "First", id="diff.first_divergence", tooltip="First divergence"
        ),
        Binding("n", "next_change", "Next", id="diff.next_change", tooltip="Next changed row"),
        Binding(
            "p",
            "previous_change",
            "Prev",
            id="diff.previous_change",
            tooltip="Previous changed row",
        ),
        Binding(
            "a", "open('a')", "Open A", id="diff.open_a", tooltip="Open run A here", show=False
        ),
        Binding(
            "b", "open('b')", "Open B", id="diff.open_b", tooltip="Open run B here", show=False
        ),
        Binding("escape", "close", "Back", id="diff.close", show=False),
    ]

    def __init__(self, a: Path, b: Path, *, notice: str = "") -> None:
        super().__init__()
        self.a, self.b = a, b
        self.notice = notice
        self.result: RunDiff | None = None
        self.shown: Row | None = None  # the row whose changes are on screen

    def compose(self) -> ComposeResult:
        yield Static(Text(f"A {self.a}\nB {self.b}\ncomparing…"), id="diff-verdict")
        yield DiffTable(id="diff-rows")
        yield FieldDiff(id="diff-fields")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    @property
    def table(self) -> DiffTable:
        return self.query_one(DiffTable)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.table.focus()
        if self.notice:
            self.status.say(self.notice)
        self.compare()

    @work(thread=True, exclusive=True, group="diff")
    def compare(self) -> None:
        from agentreplay.rundiff import diff

        try:
            result = diff(self.a, self.b)
        except AgentReplayError as exc:
            self.app.call_from_thread(self.status.say, str(exc), error=True)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._compared, result)

    def _compared(self, result: RunDiff) -> None:
        self.result = result
        verdict = Text()
        verdict.append(f"A {self.a.name}", style="bold")
        verdict.append(f" ({result.outcome.a}) · ")
        verdict.append(f"B {self.b.name}", style="bold")
        verdict.append(f" ({result.outcome.b})\n")
        verdict.append(result.summary(), style="bold green" if result.identical else "bold yellow")
        self.query_one("#diff-verdict", Static).update(verdict)
        self.table.set_rows(result.rows)
        if result.first_divergence is not None:
            self.table.move_to(result.first_divergence.index)

    # -- the selected pair ----------------------------------------------------
    @on(DiffTable.Highlighted)
    def _highlighted(self, message: DiffTable.Highlighted) -> None:
        row = self.table.rows[message.index]
        self.query_one(FieldDiff).show_reading(row)
        self.read_changes(row)

    @work(thread=True, exclusive=True, group="changes")
    def read_changes(self, row: Row) -> None:
        try:
            changes = row.changes
        except AgentReplayError as exc:
            self.app.call_from_thread(self.status.say, str(exc), error=True)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_changes, row, changes)

    def _show_changes(self, row: Row, changes: list[FieldChange]) -> None:
        if self.table.current is row:
            self.query_one(FieldDiff).show(row, changes)
            self.shown = row

    # -- moving ---------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.table.move(delta)

    def action_page(self, direction: int) -> None:
        self.table.move(direction * max(1, self.table.size.height - 2))

    def action_first(self) -> None:
        self.table.move_to(0)

    def action_last(self) -> None:
        self.table.move_to(len(self.table.rows) - 1)

    def action_first_divergence(self) -> None:
        first = self.result.first_divergence if self.result is not None else None
        if first is None:
            self.status.say("the runs are the same step by step: no divergence")
            return
        self.table.move_to(first.index)

    def _to_change(self, forward: bool) -> None:
        rows = self.table.rows
        here = self.table.cursor
        order = range(here + 1, len(rows)) if forward else range(here - 1, -1, -1)
        target = next((i for i in order if rows[i].verdict.value != "same"), None)
        if target is None:
            self.status.say(f"no {'later' if forward else 'earlier'} change")
            return
        self.table.move_to(target)

    def action_next_change(self) -> None:
        self._to_change(forward=True)

    def action_previous_change(self) -> None:
        self._to_change(forward=False)

    def action_open(self, side: str) -> None:
        """Open one of the runs on its run screen, at this row's step."""
        row = self.table.current
        ref = None if row is None else (row.a if side == "a" else row.b)
        if ref is None:
            self.status.say(f"run {side.upper()} has no step in this row", error=True)
            return
        self.post_message(OpenRun(self.a if side == "a" else self.b, step=ref.number))

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
