"""The Timing tab: when a step started, how long it took, and when its chunks came."""

from __future__ import annotations

import itertools

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Sparkline, Static

import agentreplay.humanize as fmt
from agentreplay.steps import Step

__all__ = ["TimingView"]

SLICES = 120
"""Time slices the chunk arrivals are counted in; the sparkline folds them to its width."""


class TimingView(VerticalScroll):
    """Start, duration, time to first token, and the stream on a time axis."""

    def compose(self) -> ComposeResult:
        yield Static(id="timing-facts")
        yield Static("chunks arriving over the step's time", id="timing-arrivals-title")
        yield Sparkline([], id="timing-arrivals")
        yield Static(id="timing-axis")
        yield Static("gap before each chunk", id="timing-gaps-title")
        yield Sparkline([], id="timing-gaps")

    def show(self, step: Step) -> None:
        facts = Text()
        facts.append("started ", style="dim")
        facts.append(f"{fmt.seconds(step.start_at / 1e9)} into the run")
        facts.append("\nduration ", style="dim")
        facts.append(fmt.seconds(step.duration) if step.end_at is not None else "unfinished")
        if step.llm is not None:
            facts.append("\ntime to first token ", style="dim")
            facts.append(fmt.seconds(step.llm.ttft))
        chunks = step.chunk_at or []
        gaps = [(b - a) / 1e9 for a, b in itertools.pairwise(chunks)]
        if chunks:
            facts.append("\nchunks ", style="dim")
            facts.append(f"{len(chunks):,}")
        if gaps:
            worst = max(range(len(gaps)), key=gaps.__getitem__)
            facts.append("\nlongest gap ", style="dim")
            facts.append(f"{fmt.seconds(gaps[worst])} before chunk {worst + 2}")
        self.query_one("#timing-facts", Static).update(facts)
        streamed = len(chunks) > 1
        for widget in self.query("#timing-arrivals-title, #timing-arrivals, #timing-axis"):
            widget.display = streamed
        for widget in self.query("#timing-gaps-title, #timing-gaps"):
            widget.display = bool(gaps)
        if streamed:
            self.query_one("#timing-arrivals", Sparkline).data = _arrivals(step.start_at, chunks)
            span = (chunks[-1] - step.start_at) / 1e9
            axis = Text("0", style="dim")
            end = fmt.seconds(span)
            axis.append(" " * max(1, self.size.width - 2 - len(end) - 1))
            axis.append(end, style="dim")
            self.query_one("#timing-axis", Static).update(axis)
        if gaps:
            self.query_one("#timing-gaps", Sparkline).data = gaps
        self.scroll_home(animate=False)


def _arrivals(start: int, chunks: list[int]) -> list[float]:
    """How many chunks arrived in each of `SLICES` equal slices of the step's time."""
    span = max(1, chunks[-1] - start)
    counts = [0.0] * SLICES
    for at in chunks:
        counts[min(SLICES - 1, (at - start) * SLICES // span)] += 1
    return counts
