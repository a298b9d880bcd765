"""``agentreplay record [-o FILE] -- python agent.py ARGS`` (or ``-- python -m pkg``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agentreplay.debugger.launch import record_command
from agentreplay.session.environment import DEFAULT_CASSETTE, ENV_ALLOW, cassette_path

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "record",
        help="run a Python program and record it into a cassette",
        description="Runs the program in a fresh interpreter with PYTHONHASHSEED pinned, "
        "recording every model call, HTTP call, clock read and random draw. "
        "The exit code is the program's.",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_CASSETTE,
        help="cassette to write; {timestamp} and {run_id} are filled in "
        f"(default {DEFAULT_CASSETTE})",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME",
        help="also keep this environment variable in the cassette, to set "
        f"it again on replay (always kept: {', '.join(ENV_ALLOW)}); "
        "names that read like secrets (…_KEY, …_TOKEN, …_PASSWORD) are refused",
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="-- python agent.py ARGS, or -- python -m package ARGS",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    cassette = cassette_path(args.output).resolve()
    report = record_command(command, cassette, keep_env=args.env)
    print(f"agentreplay: recorded {cassette} (exit code {report.exit_code})", file=sys.stderr)
    print(f"agentreplay: replay it with: agentreplay replay {_short(cassette)}", file=sys.stderr)
    return report.exit_code


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
