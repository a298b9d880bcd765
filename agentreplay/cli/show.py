"""``agentreplay show FILE``: a run as a table of steps, or one step in full."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Any, Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

import agentreplay.humanize as fmt
from agentreplay.capture.listing import local_copy
from agentreplay.cli.events import print_events
from agentreplay.errors import CassetteError, CassetteWarning, UsageError
from agentreplay.steps import Cassette, Step, Summary, iter_steps, open_cassette, step_from_events

__all__ = ["add_parser", "load_step", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show",
        help="show a run's steps, or one step in full",
        description="Shows a recorded run without running anything: a table of its steps "
        "(model calls, tool calls, spans) with timing, tokens and cost, and how it ended; "
        "--step N shows one step in full, --outcome the recorded exception with its "
        "traceback or the return value, --events the raw events. Safe on any file.",
    )
    parser.add_argument("file", help="the cassette to show")
    parser.add_argument("--step", type=int, metavar="N", help="show step N in full")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--events", action="store_true", help="list raw events, not steps")
    parser.add_argument(
        "--outcome",
        action="store_true",
        help="how the run ended: the exception with its traceback as the agent saw it, "
        "or the value it returned",
    )
    parser.add_argument(
        "--limit",
        type=_count,
        default=200,
        metavar="N",
        help="rows to print (default 200; 0 for all)",
    )
    parser.set_defaults(run=run)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (0 shows all), not {value}")
    return value


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich would exit 1 here; `main` treats a reader that went away the same for
        # every command (exit 0), so hand it the error.
        self.quiet = True
        raise BrokenPipeError


def _status(step: Step) -> str:
    if step.status == "error":
        return f"[red]{escape(step.error or 'error')}[/]"
    if step.status == "open":
        return "[yellow]unfinished[/]"
    if step.status == "cancelled":
        return f"[yellow]cancelled after {step.duration or 0:.3f} s[/]"
    return "ok" if step.http_status is None else f"ok {step.http_status}"


def _header_line(cassette: Cassette) -> str:
    header = cassette.header
    imported = header.get("imported")
    made = f"recorded {header.get('created', '?')}"
    if isinstance(imported, dict):
        made = f"imported from {imported.get('from', '?')} {imported.get('file', '')}".rstrip()
    parts = [
        f"run {str(header.get('run_id', '?'))[:12]}",
        made,
        f"python {header.get('python', '?')}",
    ]
    if header.get("entrypoint"):
        parts.append(f"entrypoint {header['entrypoint']}")
    if header.get("parent"):
        parent = header["parent"]
        if parent.get("step") is not None:
            parts.append(f"forked from {parent.get('path')} after step {parent.get('step')}")
        if parent.get("what_if"):
            parts.append(f"what-if of {parent.get('path')}: {parent['what_if']}")
    return " · ".join(parts)


_HEADERS: Final = (
    (
        "n",
        "kind",
        "name / model / URL",
        "task",
        "duration",
        "TTFT",
        "tokens in/out",
        "cost",
        "status",
    ),
    ("n", "kind", "name", "task", "time", "TTFT", "tokens", "cost", "status"),
)  # the second for narrow terminals
_NAME = 2


def _fitted(rows: list[tuple[str, ...]], width: int) -> Table:
    """The table, its name column cut to what the others leave of ``width``: Rich would
    squeeze the short columns to nothing first. In a narrow terminal the headers are
    shorter and columns empty in every row are left out."""
    cells = [
        max((Text.from_markup(row[i]).cell_len for row in rows), default=0)
        for i in range(len(_HEADERS[0]))
    ]
    keep = list(range(len(cells)))
    for headers in _HEADERS:
        if headers is _HEADERS[-1]:
            keep = [i for i in keep if cells[i] or i in (0, 1, _NAME)]
        others = sum(max(cells[i], len(headers[i])) for i in keep if i != _NAME)
        room = width - others - (1 + 3 * len(keep))  # a rule, a space either side
        if room >= 24:
            break
    table = Table(*(headers[i] for i in keep))
    for column, i in zip(table.columns, keep, strict=True):
        column.no_wrap = True
        if i == _NAME:
            column.overflow = "ellipsis"
            column.max_width = max(8, room)
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


def _table(cassette: Cassette, limit: int, width: int) -> tuple[Table, Summary, int, int]:
    summary = Summary()
    rows: list[tuple[str, ...]] = []
    depths = {0: -1}
    last = 0
    for step in iter_steps(cassette):
        summary.add(step)
        last = step.number
        depth = depths[step.number] = depths.get(step.parent, -1) + 1
        if limit and len(rows) >= limit:
            continue
        ttft = fmt.seconds(step.llm.ttft) if step.llm is not None else ""
        rows.append(
            (
                str(step.number),
                step.kind,
                "  " * depth + escape(step.label),
                step.task,
                fmt.seconds(step.duration),
                ttft,
                fmt.tokens(step),
                fmt.cost(step.cost),
                _status(step),
            )
        )
    return _fitted(rows, width), summary, len(rows), last


def run(args: argparse.Namespace) -> int:
    # Piped, output is 150 columns wide; a step's panels follow COLUMNS when it is set.
    panels = args.step is not None and os.environ.get("COLUMNS", "").isdigit()
    piped_width = None if sys.stdout.isatty() or panels else 150
    console = _Console(soft_wrap=False, width=piped_width)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CassetteWarning)
        with open_cassette(local_copy(args.file)) as cassette:
            cassette.check_has_events()
            if getattr(args, "outcome", False):
                code = _show_outcome(cassette)
            elif args.events:
                code = print_events(cassette, console, args.limit)
            elif args.step is not None:
                code = _show_step(cassette, args.step, console, args.json)
            else:
                code = _show_run(cassette, console, args)
    for warning in caught:
        print(f"agentreplay: warning: {warning.message}", file=sys.stderr)
    return code


def _show_run(cassette: Cassette, console: Console, args: argparse.Namespace) -> int:
    if args.json:
        from agentreplay.cli.json_output import run_json

        print(json.dumps(run_json(cassette), indent=2, default=str))
        return 0
    console.print(_header_line(cassette), highlight=False)
    table, summary, shown, last = _table(cassette, args.limit, console.width)
    console.print(table)
    if args.limit and summary.steps > shown:
        console.print(f"(first {shown} of {summary.steps} steps; --limit 0 shows all)")
    try:
        outcome = cassette.outcome
    except CassetteError:  # in a damaged part; the scan above has warned of the damage
        console.print(f"{fmt.totals(summary)} · outcome unreadable (the cassette is damaged)")
    else:
        summary.ended(outcome)
        imported = bool(cassette.header.get("imported"))
        line = fmt.summary_line(summary, outcome, last if outcome else None, imported=imported)
        console.print(line)
    if cassette.unrecorded:
        console.print(f"[yellow]{escape(fmt.unrecorded(cassette.unrecorded))}[/]", highlight=False)
    if sys.stdout.isatty() and shown + 6 > console.height:  # the table ran off the screen
        hint = f"[dim]agentreplay tui {escape(str(args.file))} browses these steps[/]"
        console.print(hint, highlight=False)
    return 0


def _show_outcome(cassette: Cassette) -> int:
    outcome = cassette.outcome
    if outcome is None:
        print("no outcome: the recording was cut short before the run ended")
        return 0
    error = outcome.error
    if error is None:
        print(fmt.outcome(outcome, None))
        return 0
    print(error.traceback.rstrip() if error.traceback else f"{error.type}: {error.message}")
    return 0


def load_step(cassette: Cassette, number: int) -> Step:
    infos = cassette.step_infos()
    if not 1 <= number <= len(infos):
        raise UsageError(f"step {number} is not in {cassette.path} (it has {len(infos)} steps)")
    step = step_from_events(number, cassette.step(number), infos[number - 1].parent)
    if step is None:
        raise CassetteError(
            f"step {number} has no events where the index says they are", path=str(cassette.path)
        )
    return step


def _show_step(cassette: Cassette, number: int, console: Console, as_json: bool) -> int:
    step = load_step(cassette, number)
    if as_json:
        print(json.dumps(step.to_plain(), indent=2, default=str))
        return 0
    from agentreplay.cli.step_view import render_step

    render_step(step, console)
    return 0
