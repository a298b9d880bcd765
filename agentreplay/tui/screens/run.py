"""The run screen: a run's steps on the left, the selected step in tabs on the right.

The first paint comes from the cassette's index alone; a background worker
then decodes the steps in one streaming pass (`iter_steps`) to fill in tokens,
TTFT, errors and the totals. One step is decoded in full (`Cassette.step` and
`step_from_events`) when the cursor reaches it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

import agentreplay.humanize as fmt
from agentreplay.cassette.tracking import StepInfo
from agentreplay.errors import CassetteError
from agentreplay.steps import Cassette, Step, Summary, iter_steps, open_cassette, step_from_events
from agentreplay.tui.history import JumpList
from agentreplay.tui.navigation import OpenDiff
from agentreplay.tui.rows import StepRow, row_from_info, row_from_step
from agentreplay.tui.widgets.damage_banner import DamageBanner
from agentreplay.tui.widgets.prompt_bar import PromptBar
from agentreplay.tui.widgets.run_header import RunHeader
from agentreplay.tui.widgets.status_line import StatusLine
from agentreplay.tui.widgets.step_detail import TABS, StepDetail
from agentreplay.tui.widgets.step_list import StepList

__all__ = ["IndexedSteps", "RunScreen"]

BATCH_SECONDS = 0.25
"""How often the background pass hands decoded rows to the screen."""


class IndexedSteps:
    """A cassette's events with an index already read, for `iter_steps` in a worker:
    each worker streams through its own open file."""

    def __init__(self, infos: list[StepInfo], cassette: Cassette) -> None:
        self.infos = infos
        self.cassette = cassette

    def step_infos(self) -> list[StepInfo]:
        return self.infos

    def events_with_steps(self, *, errors: str = "raise") -> object:
        return self.cassette.events_with_steps(errors="ignore")


def _tab_binding(number: int, tab: str) -> Binding:
    return Binding(
        str(number), f"tab('{tab}')", f"{tab.capitalize()} tab", id=f"run.tab_{tab}", show=False
    )


class RunScreen(Screen[None]):
    """One recorded run."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "move(1)", "Next step", id="run.next", show=False),
        Binding("k,up", "move(-1)", "Previous step", id="run.previous", show=False),
        Binding("pagedown", "page(1)", "Page down", id="run.page_down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="run.page_up", show=False),
        Binding("g", "go_to", "Go to", id="run.go_to", tooltip="Go to step N"),
        Binding("G,end", "last", "Last step", id="run.last", show=False),
        Binding("home", "first", "First step", id="run.first", show=False),
        Binding("slash", "search", "Search", id="run.search"),
        Binding("n", "next_match", "Next match", id="run.next_match", show=False),
        Binding("N", "previous_match", "Previous match", id="run.previous_match", show=False),
        Binding("e", "next_error", "Error", id="run.next_error", tooltip="Next error"),
        Binding("right_square_bracket", "next_llm", "Next LLM call", id="run.next_llm", show=False),
        Binding(
            "left_square_bracket",
            "previous_llm",
            "Previous LLM call",
            id="run.previous_llm",
            show=False,
        ),
        Binding(
            "t",
            "group_by_task",
            "Tasks",
            id="run.group_by_task",
            tooltip="Group by task",
            show=False,
        ),
        *(_tab_binding(number, tab) for number, tab in enumerate(TABS, 1)),
        Binding(
            "ctrl+o", "back", "Back", id="run.back", show=False, tooltip="Back to before a jump"
        ),
        Binding(
            "ctrl+i,tab",
            "forward",
            "Forward",
            id="run.forward",
            show=False,
            tooltip="Forward again through the jumps",
        ),
        Binding("h", "focus_steps", "Focus steps", id="run.focus_steps", show=False),
        Binding("l", "focus_detail", "Focus detail", id="run.focus_detail", show=False),
        Binding("y", "copy", "Copy step", id="run.copy", show=False),
        Binding("b", "break_here", "Break", id="run.break", tooltip="Replay to here in pdb"),
        Binding("F", "fork", "Fork", id="run.fork", tooltip="Fork live after this step"),
        Binding("o", "what_if", "What-if", id="run.what_if", tooltip="Edit this answer and replay"),
        Binding("escape", "close", "Back to list", id="run.close", show=False),
    ]

    def __init__(self, path: Path, *, notice: str = "", step: int = 1) -> None:
        super().__init__()
        self.path = path
        self.notice = notice
        self.start_step = step
        self.cassette = open_cassette(path)
        self.infos: list[StepInfo] = []
        self.summary: Summary | None = None
        self.jumps = JumpList()
        self.matches: list[int] = []
        self.searched = ""
        self.step: Step | None = None
        self._reading = threading.Lock()  # one thread at a time reads self.cassette

    # -- building -----------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield RunHeader(id="run-header")
        yield DamageBanner(id="damage-banner")
        with Horizontal(id="panes"):
            yield StepList(id="steps")
            yield StepDetail(id="detail")
        yield StatusLine(id="status")
        yield PromptBar(id="prompt-bar")
        yield Footer(compact=True)

    @property
    def steps(self) -> StepList:
        return self.query_one(StepList)

    @property
    def detail(self) -> StepDetail:
        return self.query_one(StepDetail)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.infos = self.cassette.step_infos()
        try:
            self.outcome = self.cassette.outcome
        except CassetteError:
            self.outcome = None
        self.sub_title = str(self.path)
        self._show_header()
        self.query_one(DamageBanner).show_damage(
            self.cassette.damage, self.cassette.closed_cleanly, len(self.infos)
        )
        self.steps.set_rows([row_from_info(info) for info in self.infos])
        if self.start_step != 1:
            self.steps.select(self.start_step)
        self.steps.focus()
        if not self.infos:
            self.status.say("this run has no steps")
        elif self.notice:
            self.status.say(self.notice)
        self.read_steps()

    def on_unmount(self) -> None:
        self.workers.cancel_all()
        with self._reading:
            self.cassette.close()

    def _show_header(self, progress: str = "") -> None:
        self.query_one(RunHeader).show(
            self.cassette.header, self.outcome, len(self.infos), self.summary, progress
        )

    # -- the background pass --------------------------------------------------
    @work(thread=True, exclusive=True, group="summary")
    def read_steps(self) -> None:
        worker = get_current_worker()
        summary = Summary()
        batch: list[StepRow] = []
        flushed = time.monotonic()
        with open_cassette(self.path) as cassette:
            for step in iter_steps(IndexedSteps(self.infos, cassette)):  # type: ignore[arg-type]
                if worker.is_cancelled:
                    return
                summary.add(step)
                batch.append(row_from_step(step))
                if time.monotonic() - flushed > BATCH_SECONDS:
                    self.app.call_from_thread(self._rows_read, batch, step.number)
                    batch, flushed = [], time.monotonic()
            damage = cassette.damage
        summary.ended(self.outcome)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._all_read, batch, summary, damage)

    def _taken_down(self) -> bool:
        """True once the screen is being removed: a worker may still report to it."""
        return not self.query(StepList)

    def _rows_read(self, rows: list[StepRow], upto: int) -> None:
        if self._taken_down():
            return
        self.steps.update_rows(rows)
        self._show_header(f"reading the steps… {upto:,} of {len(self.infos):,}")

    def _all_read(
        self, rows: list[StepRow], summary: Summary, damage: CassetteError | None
    ) -> None:
        if self._taken_down():
            return
        self.steps.update_rows(rows)
        self.summary = summary
        self._show_header()
        if damage is not None and self.cassette.damage is None:
            self.query_one(DamageBanner).show_damage(damage, True, len(self.infos))

    # -- the selected step ----------------------------------------------------
    @on(StepList.Highlighted)
    def _highlighted(self, message: StepList.Highlighted) -> None:
        row = self.steps.row(message.number)
        self.detail.loading_step(message.number, row.name if row else "")
        self.load_step(message.number)

    @work(thread=True, exclusive=True, group="detail")
    def load_step(self, number: int) -> None:
        worker = get_current_worker()
        with self._reading:
            if worker.is_cancelled or not self.cassette.path:
                return
            try:
                events = self.cassette.step(number)
            except (CassetteError, ValueError) as exc:
                self.app.call_from_thread(
                    self.status.say, f"step {number} cannot be read: {exc}", error=True
                )
                return
        step = step_from_events(number, events, self.infos[number - 1].parent)
        if step is not None and not worker.is_cancelled:
            self.app.call_from_thread(self._show_step, step)

    def _show_step(self, step: Step) -> None:
        if not self._taken_down() and step.number == self.steps.current:
            self.step = step
            self.detail.show(step)

    # -- moving ---------------------------------------------------------------
    def _jump(self, number: int | None, what: str = "") -> None:
        if number is None:
            self.status.say(what or "nothing there")
            return
        origin = self.steps.current
        if self.steps.select(number) and origin and origin != number:
            self.jumps.jumped(origin)
        if what:
            self.status.say(what)

    def action_move(self, delta: int) -> None:
        self.steps.move(delta)

    def action_page(self, direction: int) -> None:
        self.steps.move(direction * max(1, self.steps.size.height - 2))

    def action_first(self) -> None:
        origin = self.steps.current
        self.steps.move_to_line(0)
        if origin and origin != self.steps.current:
            self.jumps.jumped(origin)

    def action_last(self) -> None:
        origin = self.steps.current
        self.steps.move_to_line(self.steps.line_count - 1)
        if origin and origin != self.steps.current:
            self.jumps.jumped(origin)

    def action_go_to(self) -> None:
        self.query_one(PromptBar).ask("go_to", f"go to step (1-{len(self.infos)})", digits=True)

    def action_search(self) -> None:
        self.query_one(PromptBar).ask("search", "search prompts, answers, URLs and tool names")

    @on(PromptBar.Answered)
    def _answered(self, message: PromptBar.Answered) -> None:
        self.steps.focus()
        if message.purpose == "go_to":
            number = int(message.value) if message.value.isdigit() else 0
            if not 1 <= number <= len(self.infos):
                self.status.say(
                    f"no step {message.value}: steps are 1-{len(self.infos)}", error=True
                )
                return
            self._jump(number, f"step {number}")
        elif message.purpose == "search":
            self.status.say(f"searching for {message.value!r}…")
            self.search(message.value)

    @on(PromptBar.Cancelled)
    def _cancelled(self) -> None:
        self.steps.focus()
        self.status.say("")

    @work(thread=True, exclusive=True, group="search")
    def search(self, text: str) -> None:
        worker = get_current_worker()
        found: list[int] = []
        said = time.monotonic()
        with open_cassette(self.path) as cassette:
            for step in iter_steps(IndexedSteps(self.infos, cassette)):  # type: ignore[arg-type]
                if worker.is_cancelled:
                    return
                if step.mentions(text):
                    found.append(step.number)
                if time.monotonic() - said > 0.2:
                    said = time.monotonic()
                    message = f"searching for {text!r}… step {step.number:,} of {len(self.infos):,}"
                    self.app.call_from_thread(self.status.say, message)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._found, text, found)

    def _found(self, text: str, found: list[int]) -> None:
        if self._taken_down():
            return
        self.searched, self.matches = text, found
        if not found:
            self.status.say(f"no step mentions {text!r}", error=True)
            return
        self._to_match(forward=True)

    def _to_match(self, forward: bool) -> None:
        if not self.searched:
            self.status.say("no search yet: / searches", error=True)
            return
        if not self.matches:
            self.status.say(f"no step mentions {self.searched!r}", error=True)
            return
        current = self.steps.current
        if forward:
            later = [n for n in self.matches if n > current]
            target = later[0] if later else self.matches[0]
        else:
            earlier = [n for n in self.matches if n < current]
            target = earlier[-1] if earlier else self.matches[-1]
        place = self.matches.index(target) + 1
        self._jump(
            target, f"{self.searched!r}: step {target}, match {place} of {len(self.matches)}"
        )

    def action_next_match(self) -> None:
        self._to_match(forward=True)

    def action_previous_match(self) -> None:
        self._to_match(forward=False)

    def _find(self, predicate: Callable[[StepRow], bool], forward: bool, what: str) -> None:
        number = self.steps.find(predicate, forward)
        pending = "" if self.summary is not None else " (still reading the steps)"
        if number is None:
            self._jump(None, f"no {what} in this run{pending}")
        else:
            self._jump(number, f"{what} at step {number}{pending}")

    def action_next_error(self) -> None:
        self._find(lambda row: row.status == "error", True, "error")

    def action_next_llm(self) -> None:
        self._find(lambda row: row.kind == "llm", True, "LLM call")

    def action_previous_llm(self) -> None:
        self._find(lambda row: row.kind == "llm", False, "LLM call")

    def action_group_by_task(self) -> None:
        self.steps.by_task = not self.steps.by_task
        self.status.say("grouped by task" if self.steps.by_task else "in run order, as a tree")

    def action_tab(self, tab: str) -> None:
        if self.detail.step is None:
            return
        if not self.detail.applies(tab):
            self.status.say(f"a {self.detail.step.kind} step has no {tab} tab", error=True)
            return
        self.detail.choose(tab)

    def action_back(self) -> None:
        target = self.jumps.back(self.steps.current)
        if target is None:
            self.status.say("no earlier jump to go back to")
        else:
            self.steps.select(target)

    def action_forward(self) -> None:
        target = self.jumps.forward(self.steps.current)
        if target is None:
            self.status.say("no later jump to go forward to")
        else:
            self.steps.select(target)

    def action_focus_steps(self) -> None:
        self.steps.focus()

    def action_focus_detail(self) -> None:
        active = self.detail.tabs.active_pane
        if active is None:
            return
        view = active.query_one("VerticalScroll")
        self.set_focus(view)
        if self.focused is not view:  # a scroll container takes focus only if it can scroll
            self.status.say("the detail fits on the screen: nothing to scroll")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":  # back to the list of runs, or the diff, it was opened from
            return len(self.app.screen_stack) > 2
        return True

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    # -- leaving the screen with the step --------------------------------------
    def action_copy(self) -> None:
        step = self.step
        if step is None:
            self.status.say("the step is still loading", error=True)
            return
        text = json.dumps(step.to_plain(), indent=2, ensure_ascii=False, default=str)
        self.app.copy_to_clipboard(text)
        handle, name = tempfile.mkstemp(
            prefix=f"agentreplay-{self.path.stem}-step{step.number}-", suffix=".json"
        )
        target = Path(name)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        self.status.say(
            f"step {step.number} copied to the clipboard and written to {target} "
            f"({fmt.plural(len(text.encode()), 'byte')})"
        )

    def action_break_here(self) -> None:
        from agentreplay.tui.debugging import break_at

        break_at(self, self.steps.current)

    def action_fork(self) -> None:
        from agentreplay.tui.debugging import fork_after

        fork_after(self, self.steps.current)

    def opened(self, original: Path, produced: Path, message: str) -> None:
        """A fork or what-if of this run ended, recorded into ``produced``: show its diff
        with this run."""
        notice = f"{message} · recorded into {produced} · Escape goes back to {original.name}"
        self.post_message(OpenDiff(original, produced, notice))

    def action_what_if(self) -> None:
        from agentreplay.tui.debugging import what_if

        what_if(self, self.step)
