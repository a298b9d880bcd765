"""``agentreplay diff A B``: two runs aligned step by step.

Exit codes: 0 identical; 1 different; 2 usage error; 3 a cassette missing,
not a cassette, or damaged.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import warnings
from typing import Any

from rich.console import Console
from rich.markup import escape

from agentreplay.errors import CassetteWarning
from agentreplay.rundiff import OutcomeDiff, RunDiff, Verdict, diff

__all__ = ["EXIT_DIFFERENT", "EXIT_IDENTICAL", "add_parser", "run"]

EXIT_IDENTICAL = 0
EXIT_DIFFERENT = 1


def _step(text: str) -> tuple[str, int]:
    side, sep, number = text.rpartition(":")
    if (sep and side not in ("a", "b")) or not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a step number of run A (N, or a:N) or of run B (b:N), not {text!r}"
        )
    return side or "a", int(number)


def _context(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare two runs step by step",
        description="Aligns the steps of two cassettes per logical task and says what "
        "changed: model calls field by field (messages, tools, parameters, answer, tool "
        "calls), HTTP calls, tool functions, and how each run ended. Ids, dates and "
        "other volatile fields never count (see --ignore). Exit codes: 0 identical, "
        "1 different, 2 usage error, 3 a cassette missing or unreadable.",
    )
    parser.add_argument("a", help="run A's cassette (the reference)")
    parser.add_argument("b", help="run B's cassette")
    parser.add_argument(
        "--step",
        type=_step,
        metavar="N",
        help="show one aligned pair in full: N (or a:N) is run A's step number, b:N run B's",
    )
    parser.add_argument(
        "--all", action="store_true", help="show every differing pair in full, not just the first"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the whole result as JSON, for scripts"
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="a field that must not count, e.g. params.seed or response.body.served "
        "(repeatable); !PATH takes back a default one, e.g. '!tool_calls[*].id'",
    )
    parser.add_argument(
        "--context",
        type=_context,
        default=3,
        metavar="N",
        help="same steps shown around each difference (default 3; -1 shows every step)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CassetteWarning)
        result = diff(args.a, args.b, ignore=args.ignore)
        code = _show(result, args)
    for warning in caught:
        print(f"agentreplay: warning: {warning.message}", file=sys.stderr)
    return code


def _long_messages(outcome: OutcomeDiff, console: Console) -> None:
    """The whole of each error message of several lines (the outcome line has its first)."""
    for change in outcome.changes:
        if change.path != "error.message":
            continue
        for side, message in (("A", change.old), ("B", change.new)):
            if isinstance(message, str) and "\n" in message:
                console.print(f"{side}'s error:", highlight=False)
                console.print(escape(textwrap.indent(message, "  ")), highlight=False)


def _show(result: RunDiff, args: argparse.Namespace) -> int:
    code = EXIT_IDENTICAL if result.identical else EXIT_DIFFERENT
    if args.json:
        print(json.dumps(result.to_plain(), indent=2, ensure_ascii=False, default=repr))
        return code
    from agentreplay.cli.diff_view import render_pair, render_table

    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 150)
    if args.step is not None:
        side, number = args.step
        row = result.row(a=number) if side == "a" else result.row(b=number)
        render_pair(result, row, console)
        return code
    console.print(f"[bold]{escape(result.summary())}[/]", highlight=False)
    console.print(f"A: {escape(result.a.path)}\nB: {escape(result.b.path)}", highlight=False)
    if result.rows:
        render_table(result, console, args.context)
    outcome = result.outcome
    if outcome.same:
        console.print(f"outcome: the same in both ({outcome.a})", highlight=False)
    else:
        console.print(f"outcome: A {outcome.a} · B {outcome.b}", highlight=False)
        _long_messages(outcome, console)
    differing = [row for row in result.rows if row.verdict is not Verdict.SAME]
    if args.all:
        result.load_changes()
    for row in differing if args.all else differing[:1]:
        if not args.all:
            console.print("[bold]first divergence[/]")
        render_pair(result, row, console)
    return code
