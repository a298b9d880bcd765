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

View = PromptView | AnswerView | TimingView | HttpView | EventsView

TABS: Final = ("prompt", "answer", "timing", "http", "events")
"""The tabs in order: keys 1 to 5 pick them."""

_APPLIES: Final = {
    "llm": set(TABS),
    "http": {"timing", "http", "events"},
    "tool": {"answer", "timing", "events"},
    "span": {"timing", "events"},
}

_OWN: Final = {"llm": "prompt", "http": "http", "tool": "answer", "span": "timing"}
"""The tab a kind of step opens on, until the user picks one that applies to it."""


class StepDetail(Vertical):
    """One step in full; the tabs that do not apply to its kind are hidden."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step: Step | None = None
        self._drawn: set[str] = set()
        self.preferred: str | None = None  # the tab last chosen, shown again when it applies
        self._automatic = "prompt"  # the tab `show` picked, when the preferred one does not apply

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
        self._drawn = set()
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"step {step.number} ", style="bold")
        title.append(KIND_MARKS.get(step.kind, "?") + " ")
        title.append(step.label)
        title.append(f" · task {step.task}", style="dim")
        if step.parent:
            title.append(f" · in step {step.parent}", style="dim")
        self.query_one("#detail-title", Static).update(title)
        preferred = self.preferred
        wanted = preferred if preferred and self.applies(preferred) else _OWN.get(step.kind, "")
        if not self.applies(wanted):
            wanted = next(tab for tab in TABS if self.applies(tab))
        self._automatic = wanted
        tabs = self.tabs
        hidden = {tab for tab in TABS if tabs.get_tab(tab).has_class("-hidden")}
        for tab in TABS:
            if self.applies(tab) and tab in hidden:
                tabs.show_tab(tab)
        if tabs.active != wanted:
            tabs.active = wanted
        # Only once another is active: hiding the active tab activates the next one, later,
        # as if the user had picked it.
        for tab in TABS:
            if not self.applies(tab) and tab not in hidden:
                tabs.hide_tab(tab)
        self._draw(wanted)

    def choose(self, tab: str) -> None:
        """The user picked ``tab``: keep showing it for the steps it applies to."""
        self.preferred = self._automatic = tab
        self.tabs.active = tab

    def _draw(self, tab: str) -> None:
        """Fill in the tab ``tab`` for the current step, once: the others wait until shown."""
        if self.step is None or tab in self._drawn or not self.applies(tab):
            return
        self._drawn.add(tab)
        views: dict[str, type[View]] = {
            "prompt": PromptView,
            "answer": AnswerView,
            "timing": TimingView,
            "http": HttpView,
            "events": EventsView,
        }
        self.query_one(views[tab]).show(self.step)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tab = event.pane.id
        if tab:
            # Hiding tabs activates others on the way: only the tab still active counts.
            if tab == self.tabs.active and tab != self._automatic:  # the user clicked it
                self.preferred = tab
            self._draw(tab)
