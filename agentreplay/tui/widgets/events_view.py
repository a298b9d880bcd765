"""The Events tab: the clock reads and entropy draws the agent made inside a step."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

import agentreplay.humanize as fmt
from agentreplay.cassette.events import ClockRead, EntropyDraw, Event
from agentreplay.steps import Step

__all__ = ["EventsView"]


class EventsView(VerticalScroll):
    """Each read: when, in which task, which clock or source, and what it gave."""

    def compose(self) -> ComposeResult:
        yield Static(id="events-body")

    def show(self, step: Step) -> None:
        inputs = step.inputs or []
        shown = Text()
        if not inputs:
            shown.append("no clock reads or entropy draws in this step", style="dim")
        for event in inputs:
            read, value = _describe(event)
            if shown.plain:
                shown.append("\n")
            shown.append(f"at {fmt.seconds(event.at / 1e9)}", style="dim")
            shown.append(f" · task {event.task} · ", style="dim")
            shown.append(read, style="bold")
            shown.append(f"\n  {value}")
        self.query_one("#events-body", Static).update(shown)
        self.scroll_home(animate=False)


def _describe(event: Event) -> tuple[str, str]:
    if isinstance(event, ClockRead):
        if event.clock == "wall" and isinstance(event.value, int):
            moment = dt.datetime.fromtimestamp(event.value / 1e9, dt.UTC)
            return "clock wall", moment.isoformat(timespec="milliseconds")
        return f"clock {event.clock}", str(event.value)
    if isinstance(event, EntropyDraw):
        shown = event.data[:16].hex() + ("…" if len(event.data) > 16 else "")
        return f"entropy {event.source} ({len(event.data)} B)", shown
    return type(event).__name__, repr(event)
