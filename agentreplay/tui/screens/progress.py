"""A long replay (fork, what-if) running in the background, with Escape to cancel it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import LoadingIndicator, Static
from textual.worker import get_current_worker

from agentreplay.debugger.launch import RunReport
from agentreplay.errors import AgentReplayError

__all__ = ["Job", "ProgressScreen"]

Job = Callable[[threading.Event], RunReport]
"""Runs the replay; stops it when the event is set."""


class ProgressScreen(ModalScreen[RunReport | str]):
    """Runs ``job`` in a worker thread; dismissed with its report, or with the reason it
    did not finish (an error, or "cancelled")."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="progress.cancel"),
    ]

    def __init__(self, title: str, job: Job) -> None:
        super().__init__()
        self.heading = title
        self.job = job
        self.cancel = threading.Event()
        self.started = time.monotonic()

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-box"):
            yield Static(self.heading, id="progress-title")
            yield LoadingIndicator()
            yield Static("", id="progress-elapsed")

    def on_mount(self) -> None:
        self.set_interval(0.2, self._tick)
        self._tick()
        self.run_job()

    def _tick(self) -> None:
        elapsed = time.monotonic() - self.started
        state = "cancelling…" if self.cancel.is_set() else "Escape cancels"
        self.query_one("#progress-elapsed", Static).update(f"{elapsed:.1f} s · {state}")

    @work(thread=True, exclusive=True, group="replay")
    def run_job(self) -> None:
        worker = get_current_worker()
        try:
            report: RunReport | str = self.job(self.cancel)
        except AgentReplayError as exc:
            report = str(exc)
        if self.cancel.is_set():
            report = "cancelled"
        if not worker.is_cancelled:
            self.app.call_from_thread(self.dismiss, report)

    def action_cancel(self) -> None:
        self.cancel.set()
        self._tick()
