"""Short human forms of durations, token counts, costs and outcomes."""

from __future__ import annotations

from agentreplay.cassette.events import RunOutcome
from agentreplay.steps import Step, Summary


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
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"


def outcome(event: RunOutcome | None, step: int | None = None) -> str:
    if event is None:
        return "no outcome (the recording stopped before the run ended)"
    if event.error is not None:
        text = f"raised {event.error}"
    else:
        text = f"returned {event.value_repr}" if event.value_repr else "completed"
    return f"{text} at step {step}" if step else text


def summary_line(summary: Summary, end: RunOutcome | None, last_step: int | None) -> str:
    parts = [
        f"{summary.steps} steps",
        f"{summary.llm_calls} LLM calls",
        f"{summary.input_tokens:,} in / {summary.output_tokens:,} out tokens",
    ]
    if summary.cost is not None:
        parts.append(cost(summary.cost))
    parts.append(f"{seconds(summary.wall)} wall")
    parts.append(outcome(end, last_step))
    return " · ".join(parts)
