"""``agentreplay show FILE --events``: the raw events, one line each."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentreplay.cassette import CassetteReader
from agentreplay.errors import CassetteError

__all__ = ["print_events"]


def print_events(cassette: CassetteReader, console: Console, limit: int) -> int:
    table = Table("#", "step", "kind", "task", "seq", "at (ms)", "detail")
    shown = 0
    total = 0
    damaged: CassetteError | None = None
    try:
        for total, (step, event) in enumerate(cassette.events_with_steps(errors="warn"), 1):
            if limit and shown >= limit:
                continue
            table.add_row(
                str(total),
                str(step or ""),
                type(event).__name__,
                event.task,
                str(event.seq),
                f"{event.at / 1e6:.1f}",
                escape(event.describe()),
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
