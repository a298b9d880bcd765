"""``agentreplay ls SINK``: the runs production capture kept, newest first.

Reads only the per-day manifests of a folder or an ``s3://`` prefix, never a
cassette. Each row says how to replay the run. Exit codes: 0 (even when no
run matches), 2 bad usage or an unreadable sink.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentreplay.capture.listing import Filter, list_runs, parse_age
from agentreplay.errors import UsageError
from agentreplay.humanize import plural

__all__ = ["add_parser", "replay_command", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ls",
        help="list the runs production capture kept in a folder or s3:// prefix",
        description="Lists captured runs from the sink's manifests, newest first. "
        "Exit codes: 0 listed (maybe none), 2 usage error or unreadable sink.",
    )
    parser.add_argument("sink", help="the capture sink: a folder or s3://bucket/prefix")
    parser.add_argument("--failed", action="store_true", help="only runs that failed")
    parser.add_argument("--slow", action="store_true", help="only runs kept for being slow")
    parser.add_argument("--name", help="only runs whose name contains NAME")
    parser.add_argument(
        "--since", type=_age, metavar="AGE", help="only runs started within AGE (30m, 2h, 7d)"
    )
    parser.add_argument(
        "--limit", type=int, default=100, metavar="N", help="rows at most (default 100; 0 for all)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.set_defaults(run=run)


def _age(text: str) -> float:
    try:
        return parse_age(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def replay_command(entry: dict[str, Any]) -> str:
    """How to replay a listed run."""
    location = entry["location"]
    if entry.get("kind") == "run":  # a capture.run() block: its code must be called again
        return f"agentreplay.replay({location!r}) around the same call"
    return f"agentreplay replay {location}"


def _outcome(entry: dict[str, Any]) -> str:
    if entry.get("error"):
        return f"[red]{escape(str(entry['error']).rsplit('.', 1)[-1])}[/]"
    status = entry.get("status")
    if isinstance(status, int) and status >= 500:
        return f"[red]HTTP {status}[/]"
    return f"HTTP {status}" if status else "ok"


def _when(entry: dict[str, Any]) -> str:
    start = entry.get("start_ns")
    if not isinstance(start, int):
        return "?"
    return datetime.fromtimestamp(start / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def _recorded_here(sink: str) -> str:
    """What to say of a folder of cassettes recorded one by one (``AGENTREPLAY_CASSETTE``
    with ``{run_id}``), which have no capture manifest for ls to read."""
    folder = Path(sink)
    count = sum(1 for _ in folder.glob("*.cassette")) if folder.is_dir() else 0
    if not count:
        return ""
    return (
        f": the {plural(count, 'cassette')} there {'was' if count == 1 else 'were'} recorded, "
        f"not captured (no capture manifest); agentreplay tui {sink} lists and opens them"
    )


def run(args: argparse.Namespace) -> int:
    where = Filter(failed=args.failed, slow=args.slow, name=args.name, since=args.since)
    try:
        entries = list_runs(args.sink, where)
    except UsageError:
        raise
    except Exception as exc:  # a store that cannot be reached, a folder that cannot be read
        raise UsageError(
            f"cannot read {args.sink}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
        ) from None
    if args.limit:
        entries = entries[: args.limit]
    if args.json:
        for entry in entries:
            print(json.dumps({**entry, "replay": replay_command(entry)}, default=str))
        return 0
    if not entries:
        print(f"no captured runs in {args.sink}{_recorded_here(args.sink)}", file=sys.stderr)
        return 0
    table = Table(box=None, header_style="bold")
    for column in (
        "started",
        "name",
        "outcome",
        "kept",
        "duration",
        "steps",
        "tokens",
        "cost",
        "replay",
    ):
        table.add_column(column, no_wrap=column != "replay")
    for entry in entries:
        cost = entry.get("cost")
        table.add_row(
            _when(entry),
            escape(str(entry.get("name", ""))),
            _outcome(entry),
            str(entry.get("kept", "")) + (" (truncated)" if entry.get("truncated") else ""),
            f"{entry.get('duration', 0):.2f} s",
            str(entry.get("steps", "")),
            str(entry.get("tokens", "")),
            "" if cost is None else f"${cost:.6f}",
            escape(replay_command(entry)),
        )
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else 250).print(table)
    return 0
