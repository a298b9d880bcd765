"""The table of runs in a directory: newest first, failed runs marked, two can be marked."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

import agentreplay.humanize as fmt
from agentreplay.tui.render import moment
from agentreplay.tui.runs import RunInfo

__all__ = ["RunTable"]

COLUMNS = ("", "recorded (UTC)", "file", "time", "steps", "tokens", "cost", "outcome")


class RunTable(DataTable[Text]):
    """One row per cassette; ``space`` marks a row (at most two stay marked)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", id="runs.down", show=False),
        Binding("k", "cursor_up", "Up", id="runs.up", show=False),
        Binding("space", "mark", "Mark", id="runs.mark"),
    ]

    class Marked(Message):
        """The marked rows changed."""

        def __init__(self, run_table: RunTable, marked: list[Path]) -> None:
            super().__init__()
            self.run_table = run_table
            self.marked = marked

        @property
        def control(self) -> RunTable:
            return self.run_table

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.root = root
        self.runs: dict[str, RunInfo] = {}
        self.marked: list[str] = []

    def on_mount(self) -> None:
        for title in COLUMNS:
            self.add_column(title, key=title or "mark")

    def show_runs(self, runs: list[RunInfo]) -> None:
        """All the runs, newest first (unreadable ones last)."""
        self.clear()
        for run in sorted(runs, key=lambda run: run.created, reverse=True):
            key = str(run.path)
            self.runs[key] = run
            self.add_row(*self._cells(run), key=key)

    def update_run(self, run: RunInfo) -> None:
        key = str(run.path)
        self.runs[key] = run
        for column, cell in zip(("tokens", "cost"), self._cells(run)[5:7], strict=True):
            self.update_cell(key, column, cell, update_width=True)

    def _cells(self, run: RunInfo) -> list[Text]:
        style = "bold red" if run.failed else ""
        mark = "●" if str(run.path) in self.marked else " "
        summary = run.summary
        tokens = cost = ""
        if summary is not None:
            tokens = f"{summary.input_tokens:,}/{summary.output_tokens:,}"
            cost = fmt.cost(summary.cost)
        outcome = ("✗ " if run.failed else "✓ ") + run.outcome
        return [
            Text(mark),
            Text(moment(run.created)[:16] if run.created else "?"),
            Text(str(run.path.relative_to(self.root))),
            Text(fmt.seconds(run.wall) if run.wall is not None else "-", justify="right"),
            Text(f"{run.steps:,}", justify="right"),
            Text(tokens, justify="right"),
            Text(cost, justify="right"),
            Text(outcome, style=style),
        ]

    @property
    def current(self) -> RunInfo | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.runs.get(key or "")

    def action_mark(self) -> None:
        run = self.current
        if run is None:
            return
        key = str(run.path)
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked.append(key)
            if len(self.marked) > 2:
                dropped = self.marked.pop(0)
                self.update_cell(dropped, "mark", Text(" "))
        self.update_cell(key, "mark", Text("●" if key in self.marked else " "))
        self.post_message(self.Marked(self, [Path(k) for k in self.marked]))
