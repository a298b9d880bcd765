"""The directory screen: the cassettes under a directory, to open one or diff two."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from agentreplay.tui.navigation import OpenDiff, OpenRun
from agentreplay.tui.runs import RunInfo, find_cassettes, read_index, read_totals
from agentreplay.tui.widgets.run_table import RunTable
from agentreplay.tui.widgets.status_line import StatusLine

__all__ = ["DirectoryScreen"]


class DirectoryScreen(Screen[None]):
    """Every ``*.cassette`` under a directory, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "diff", "Diff marked", id="runs.diff"),
        Binding("r", "reload", "Reload", id="runs.reload", show=False),
    ]

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def compose(self) -> ComposeResult:
        yield Static(f"cassettes under {self.root}", id="directory-title")
        yield RunTable(self.root, id="runs")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    @property
    def table(self) -> RunTable:
        return self.query_one(RunTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        paths = find_cassettes(self.root)
        if not paths:
            self.query_one(StatusLine).say(f"no .cassette files under {self.root}", error=True)
        self.read_runs(paths)

    @work(thread=True, exclusive=True, group="runs")
    def read_runs(self, paths: list[Path]) -> None:
        worker = get_current_worker()
        runs = [read_index(path) for path in paths]
        if worker.is_cancelled:
            return
        self.app.call_from_thread(self._listed, runs)
        for run in runs:
            if worker.is_cancelled:
                return
            run.summary = read_totals(run)
            self.app.call_from_thread(self.table.update_run, run)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._totalled, len(runs))

    def _listed(self, runs: list[RunInfo]) -> None:
        self.table.show_runs(runs)
        failed = sum(run.failed for run in runs)
        self.query_one(StatusLine).say(
            f"{len(runs)} runs, {failed} failed · Enter opens a run, space marks two, d diffs "
            f"them · reading tokens and costs…"
        )

    def _totalled(self, count: int) -> None:
        failed = sum(run.failed for run in self.table.runs.values())
        self.query_one(StatusLine).say(
            f"{count} runs, {failed} failed · Enter opens a run, space marks two, d diffs them"
        )

    @on(DataTable.RowSelected)
    def _open(self, message: DataTable.RowSelected) -> None:
        run = self.table.runs.get(message.row_key.value or "")
        if run is None:
            return
        if run.unreadable is not None:
            self.query_one(StatusLine).say(f"{run.path.name}: {run.unreadable}", error=True)
            return
        self.post_message(OpenRun(run.path))

    def action_diff(self) -> None:
        marked = [Path(key) for key in self.table.marked]
        if len(marked) != 2:
            self.query_one(StatusLine).say(
                "mark two runs with space, then d opens their diff", error=True
            )
            return
        self.post_message(OpenDiff(marked[0], marked[1]))
