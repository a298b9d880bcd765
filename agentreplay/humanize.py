"""Short human forms of durations, token counts, costs and outcomes, for every face
(the command line and the terminal UI print them the same way)."""

from __future__ import annotations

import math

from agentreplay.cassette.events import RunOutcome
from agentreplay.session.outcome import describe_outcome
from agentreplay.steps import Step, Summary

__all__ = [
    "cost",
    "outcome",
    "plural",
    "seconds",
    "summary_line",
    "tokens",
    "totals",
    "unrecorded",
]


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.2f} s"
    return f"{value / 60:.1f} min"


def tokens(step: Step) -> str:
    if step.llm is None:
        return ""
    ins = "-" if step.llm.input_tokens is None else f"{step.llm.input_tokens:,}"
    outs = "-" if step.llm.output_tokens is None else f"{step.llm.output_tokens:,}"
    return f"{ins} / {outs}"


def cost(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 1:
        return f"${value:.2f}"
    if value >= 0.01 or value <= 0:
        return f"${value:.4f}"
    # Two significant digits however small: $0.000042, not $0.0000.
    decimals = min(12, 1 - math.floor(math.log10(value)))
    return f"${value:.{decimals}f}"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def outcome(event: RunOutcome | None, step: int | None = None, *, imported: bool = False) -> str:
    if event is None and imported:
        return "no outcome (imported: HTTP exchanges only)"
    if event is None:
        return "no outcome (the recording stopped before the run ended)"
    if event.error is not None:
        text = f"raised {event.error}"
    else:
        text = describe_outcome(None, event.value_repr)
    if not step:
        return text
    # An error is raised in the step it ends; a return or an exit comes after the last.
    return f"{text} {'at' if event.error is not None else 'after'} step {step}"


def unrecorded(addresses: list[str]) -> str:
    """What a run that connected without being recorded leaves a replay to refuse."""
    shown = ", ".join(addresses[:5])
    if len(addresses) > 5:
        shown += f" and {len(addresses) - 5} more"
    which = "that connection" if len(addresses) == 1 else "those connections"
    return (
        f"not recorded: the run connected to {shown} through http.client or urllib.request, "
        f"so a replay will refuse {which} (fetch with httpx, requests or aiohttp, or inside "
        f"an @agentreplay.tool function)"
    )


def summary_line(
    summary: Summary, end: RunOutcome | None, last_step: int | None, *, imported: bool = False
) -> str:
    return f"{totals(summary)} · {outcome(end, last_step, imported=imported)}"


def totals(summary: Summary) -> str:
    """Steps, LLM calls, tokens, cost and wall time, on one line."""
    parts = [plural(summary.steps, "step"), plural(summary.llm_calls, "LLM call")]
    if summary.llm_calls:  # tokens are the model's: a run without one has none to count
        parts.append(_token_totals(summary))
    if summary.cost is not None:
        parts.append(cost(summary.cost))
    parts.append(f"{seconds(summary.wall)} wall")
    return " · ".join(parts)


def _token_totals(summary: Summary) -> str:
    if summary.llm_calls and not summary.counted_calls:
        return "tokens unknown"
    text = f"{summary.input_tokens:,} in / {summary.output_tokens:,} out tokens"
    uncounted = summary.llm_calls - summary.counted_calls
    if uncounted:
        text += f" (+ {plural(uncounted, 'call')} that reported none)"
    return text
