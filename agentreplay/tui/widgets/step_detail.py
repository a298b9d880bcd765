"""The right pane: the selected step in tabs (Prompt, Answer, Timing, HTTP, Events)."""

from __future__ import annotations

from typing import Final

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane

from agentreplay.steps import Step
from agentreplay.tui.widgets.answer_view import AnswerView
from agentreplay.tui.widgets.events_view import EventsView
from agentreplay.tui.widgets.http_view import HttpView
from agentreplay.tui.widgets.prompt_view import PromptView
from agentreplay.tui.widgets.step_list import KIND_MARKS
from agentreplay.tui.widgets.timing_view import TimingView

__all__ = ["TABS", "StepDetail"]

TABS: Final = ("prompt", "answer", "timing", "http", "events")
"""The tabs in order: keys 1 to 5 pick them."""

_APPLIES: Final = {
    "llm": set(TABS),
    "http": {"timing", "http", "events"},
    "tool": {"answer", "timing", "events"},
    "span": {"timing", "events"},
}


class StepDetail(Vertical):
    """One step in full; the tabs that do not apply to its kind are hidden."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step: Step | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title")
        with TabbedContent(id="detail-tabs"):
            with TabPane("1 Prompt", id="prompt"):
                yield PromptView()
            with TabPane("2 Answer", id="answer"):
                yield AnswerView()
            with TabPane("3 Timing", id="timing"):
                yield TimingView()
            with TabPane("4 HTTP", id="http"):
                yield HttpView()
            with TabPane("5 Events", id="events"):
                yield EventsView()

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#detail-tabs", TabbedContent)

    def applies(self, tab: str) -> bool:
        return self.step is not None and tab in _APPLIES.get(self.step.kind, set())

    def loading_step(self, number: int, label: str) -> None:
        text = Text(f"step {number} · {label} …", no_wrap=True, overflow="ellipsis")
        self.query_one("#detail-title", Static).update(text)

    def show(self, step: Step) -> None:
        self.step = step
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"step {step.number} ", style="bold")
        title.append(KIND_MARKS.get(step.kind, "?") + " ")
        title.append(step.label)
        title.append(f" · task {step.task}", style="dim")
        if step.parent:
            title.append(f" · in step {step.parent}", style="dim")
        self.query_one("#detail-title", Static).update(title)
        tabs = self.tabs
        for tab in TABS:
            if self.applies(tab):
                tabs.show_tab(tab)
            else:
                tabs.hide_tab(tab)
        if not self.applies(tabs.active):
            tabs.active = next(tab for tab in TABS if self.applies(tab))
        if step.llm is not None:
            self.query_one(PromptView).show(step)
        if self.applies("answer"):
            self.query_one(AnswerView).show(step)
        self.query_one(TimingView).show(step)
        if self.applies("http"):
            self.query_one(HttpView).show(step)
        self.query_one(EventsView).show(step)
