"""``agentreplay show FILE --events``: the raw events, one line each."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentreplay.cassette import (
    Cassette,
    ClockRead,
    EntropyDraw,
    Event,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
)
from agentreplay.errors import CassetteError

__all__ = ["describe", "print_events"]


def describe(event: Event) -> str:
    """A one-line summary of an event."""
    if isinstance(event, HttpRequest):
        return f"{event.method} {event.url} ({len(event.body)} B body)"
    if isinstance(event, HttpResponse):
        return f"{event.status} {event.reason} ({len(event.headers)} headers)"
    if isinstance(event, HttpChunk):
        return f"{len(event.data)} B: {event.data[:48]!r}"
    if isinstance(event, HttpEnd):
        return "body complete" if event.complete else "body closed early"
    if isinstance(event, HttpError):
        return str(event.error)
    if isinstance(event, ClockRead):
        return f"{event.clock} = {event.value}"
    if isinstance(event, EntropyDraw):
        return f"{event.source}: {len(event.data)} B"
    if isinstance(event, ToolCall):
        return f"{event.name}({len(event.args)} args, {len(event.kwargs)} kwargs)"
    if isinstance(event, ToolResult):
        return f"raised {event.error}" if event.error else f"returned {event.value!r}"[:80]
    if isinstance(event, StepStart):
        return event.name
    if isinstance(event, StepEnd):
        return f"raised {event.error}" if event.error else "ok"
    if isinstance(event, RunOutcome):
        return f"raised {event.error}" if event.error else f"returned {event.value_repr}"
    return ""


def print_events(cassette: Cassette, console: Console, limit: int) -> int:
    table = Table("#", "step", "kind", "task", "seq", "at (ms)", "detail")
    shown = 0
    total = 0
    damaged: CassetteError | None = None
    try:
        for total, (step, event) in enumerate(cassette.events_with_steps(), 1):
            if limit and shown >= limit:
                continue
            table.add_row(
                str(total),
                str(step or ""),
                type(event).__name__,
                event.task,
                str(event.seq),
                f"{event.at / 1e6:.1f}",
                escape(describe(event)),
            )
            shown += 1
    except CassetteError as exc:
        damaged = exc
    console.print(table)
    if limit and total > shown:
        console.print(f"(first {shown} of {total} events; --limit 0 shows all)")
    if damaged is not None:
        console.print(f"[red]error:[/] {escape(str(damaged))}")
        return 1
    return 0
