"""``agentreplay mark FILE --expect fixed|reproduce``: what a check expects of a cassette."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agentreplay.check import write_expectation
from agentreplay.check.corpus import EXPECTS

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mark",
        help="mark cassettes as expected to be fixed by a change (for agentreplay check)",
        description="Records in expectations.json, beside the cassettes, what `agentreplay "
        "check` expects of each: 'fixed' (the recorded failure should no longer happen) "
        "or 'reproduce' (the default).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="the cassettes")
    parser.add_argument("--expect", required=True, choices=EXPECTS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for name in args.files:
        where = write_expectation(Path(name), args.expect)
        print(f"agentreplay: {name}: expect {args.expect} (kept in {where})")
    return 0
