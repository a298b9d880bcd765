"""The line at the top of a run: which run, how it ended, and what it cost."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

import agentreplay.humanize as fmt
from agentreplay.cassette.events import RunOutcome
from agentreplay.steps import Summary
from agentreplay.tui.render import moment

__all__ = ["RunHeader"]


class RunHeader(Static):
    """Run id, recorded time, outcome; then steps, LLM calls, tokens, cost, wall time."""

    def show(
        self,
        header: dict[str, Any],
        outcome: RunOutcome | None,
        steps: int,
        summary: Summary | None,
        progress: str = "",
    ) -> None:
        text = Text()
        text.append(f"run {str(header.get('run_id', '?'))[:12]}", style="bold")
        text.append(f" · {moment(header.get('created'))} · ")
        ended = fmt.outcome(outcome, steps if outcome is not None else None)
        text.append(ended, style="bold red" if outcome is None or outcome.error else "bold green")
        parent = header.get("parent")
        if isinstance(parent, dict):
            text.append(f" · forked from {parent.get('path')} after step {parent.get('step')}")
        text.append("\n")
        if summary is None:
            text.append(fmt.plural(steps, "step"))
            text.append(f" · {progress or 'reading the steps…'}", style="dim")
        else:
            text.append(fmt.totals(summary))
        self.update(text)
