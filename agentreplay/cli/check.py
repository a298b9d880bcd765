"""``agentreplay check PATH...``: replay a corpus of cassettes against the code as it is now.

Exit codes: 0 every cassette as expected; 1 some not; 2 bad usage; 3 some
cassette cannot be read.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentreplay.check import CheckOptions, Verdict, check_all, find_cassettes, shard
from agentreplay.check.report import junit_xml, markdown, sentence, to_json, totals
from agentreplay.humanize import plural

__all__ = ["add_parser", "run"]

_STYLE = {
    Verdict.REPRODUCED: "green",
    Verdict.FIXED: "green",
    Verdict.SKIPPED: "dim",
    Verdict.STILL_FAILING: "red",
    Verdict.DIVERGED: "red",
    Verdict.OUTCOME_CHANGED: "red",
    Verdict.ERROR: "red",
    Verdict.UNREADABLE: "red",
}


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}")
    return int(text)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="replay a corpus of cassettes against the code as it is now (a CI gate)",
        description="Replays every cassette that records a script or an "
        "@agentreplay.entrypoint call, in parallel, and says of each: reproduced, "
        "diverged, outcome changed, fixed / still failing (for cassettes marked "
        "with `agentreplay mark --expect fixed`), error, or skipped; with --chaos and "
        "--twice, also whether perturbed schedules or a second replay end otherwise. "
        "Exit codes: 0 all as expected, 1 some not, 2 usage error, 3 a cassette "
        "cannot be read.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="cassettes, folders or globs")
    parser.add_argument(
        "-j",
        "--jobs",
        type=_positive,
        default=os.cpu_count() or 1,
        help="replays at once (default: the number of CPUs)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds one replay may take (default 300)",
    )
    parser.add_argument("--shard", metavar="I/N", help="check only shard I of N (1-based)")
    parser.add_argument(
        "--chaos",
        type=_positive,
        default=0,
        metavar="K",
        help="also replay each reproduced cassette under K perturbed schedules",
    )
    parser.add_argument(
        "--twice",
        action="store_true",
        help="audit stability: replay each cassette a second time and under chaos seed 1, "
        "and report any whose replays differ (the first differing step, the call site)",
    )
    parser.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="replay cassettes made elsewhere that run code from outside the working tree "
        "(without it they are refused, as `agentreplay replay` refuses them: verdict error)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report here")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    cassettes = shard(find_cassettes(args.paths), args.shard)
    options = CheckOptions(
        jobs=args.jobs,
        timeout=args.timeout,
        chaos=args.chaos,
        twice=args.twice,
        trusted=args.yes,
    )
    console = Console(stderr=args.json, highlight=False)
    if not args.json:
        console.print(f"checking {plural(len(cassettes), 'cassette')}, {args.jobs} at a time")

    def progress(result: Any) -> None:
        style = _STYLE[result.verdict]
        note = (
            f" (chaos seeds {', '.join(str(s) for s, _ in result.chaos)})" if result.chaos else ""
        )
        note += " (unstable)" if result.unstable else ""
        console.print(f"[{style}]{result.verdict.value:>15}[/] {escape(str(result.path))}{note}")

    results = list(check_all(cassettes, options, progress))
    if args.junit:
        Path(args.junit).write_bytes(junit_xml(results))
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as file:
            file.write(markdown(results))
    if args.json:
        print(to_json(results))
    else:
        _print_problems(console, results)
        console.print(f"{totals(results)}\n{sentence(results)}")
    if any(r.verdict is Verdict.UNREADABLE for r in results):
        return 3
    return 0 if all(r.as_expected for r in results) else 1


def _print_problems(console: Console, results: list[Any]) -> None:
    problems = [r for r in results if not r.as_expected]
    if not problems:
        return
    table = Table(show_lines=True)
    table.add_column("cassette", overflow="fold")
    table.add_column("verdict")
    table.add_column("what happened", overflow="fold")
    for result in problems:
        detail = result.detail.replace("; ", "\n")
        if result.chaos:
            detail += "".join(f"\nchaos seed {seed}: {what}" for seed, what in result.chaos)
            detail += f"\nreplay it: agentreplay replay {result.path} --chaos {result.chaos[0][0]}"
        if result.unstable:
            detail += f"\nunstable: {result.unstable}"
        table.add_row(
            escape(str(result.path)),
            f"[{_STYLE[result.verdict]}]{result.verdict.value}[/]",
            escape(detail),
        )
    console.print(table)
    sys.stdout.flush()
