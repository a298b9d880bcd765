"""``agentreplay promote CASSETTE --to tests/``: a recorded run becomes a regression test."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agentreplay.errors import UsageError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="turn a recorded run into a regression test for the pytest plugin",
        description="Copies the cassette to the pytest plugin's cassette path and writes a "
        "test that replays the run and asserts what it did (the exception it raised, or "
        "the value it returned). It passes at once; edit it to assert the fixed behaviour.",
    )
    parser.add_argument("cassette", help="the recorded run")
    parser.add_argument("--to", required=True, metavar="DIR", help="the tests folder")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The pytest plugin's package needs pytest: the other commands must run without it.
    try:
        from agentreplay.regression.promote import promote
    except ImportError as exc:
        if exc.name != "pytest":
            raise
        raise UsageError(
            "promote writes a pytest test, and pytest is not installed: "
            "python -m pip install pytest"
        ) from None

    test_file, copy = promote(Path(args.cassette), Path(args.to))
    print(f"agentreplay: wrote {test_file}")
    print(f"agentreplay: the run's cassette is {copy}")
    print(f"run it: python -m pytest {test_file}")
    return 0
