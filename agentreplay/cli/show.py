"""``agentreplay show FILE``: the header and the events of a cassette."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from rich.console import Console
from rich.table import Table

from agentreplay.cassette import (
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
    open_cassette,
)
from agentreplay.errors import CassetteError, CassetteWarning


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("show", help="print a cassette's header and events")
    parser.add_argument("file", help="the cassette to show")
    parser.add_argument("--limit", type=int, default=200,
                        help="show at most this many events (default 200; 0 for all)")
    parser.set_defaults(run=run)


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


def run(args: argparse.Namespace) -> int:
    console = Console()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CassetteWarning)
        with open_cassette(args.file) as cassette:
            header = Table.grid(padding=(0, 2))
            header.add_row("format", "%d.%d" % cassette.format_version)
            for key, value in cassette.header.items():
                header.add_row(str(key), repr(value) if not isinstance(value, str) else value)
            console.print(header)
            table = Table("#", "kind", "task", "seq", "at (ms)", "detail")
            shown = 0
            damaged: CassetteError | None = None
            try:
                for number, event in enumerate(cassette.events(), 1):
                    if args.limit and shown >= args.limit:
                        continue
                    table.add_row(str(number), type(event).__name__, event.task,
                                  str(event.seq), f"{event.at / 1e6:.1f}", describe(event))
                    shown += 1
            except CassetteError as exc:
                damaged = exc
            console.print(table)
            if args.limit and shown >= args.limit:
                console.print(f"(first {shown} events shown; --limit 0 shows all)")
    for warning in caught:
        console.print(f"[yellow]warning:[/] {warning.message}")
    if damaged is not None:
        console.print(f"[red]error:[/] {damaged}")
        return 1
    return 0
