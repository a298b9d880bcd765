"""``agentreplay record [-o FILE] -- python agent.py ARGS`` (or ``-- python -m pkg``)."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import agentreplay.humanize as fmt
from agentreplay.cassette.reader import open_reader
from agentreplay.cassette.writer import check_writable
from agentreplay.debugger.launch import record_command, target_of
from agentreplay.errors import CassetteError, UsageError
from agentreplay.session.environment import DEFAULT_CASSETTE, ENV_ALLOW, cassette_path, new_run_id

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "record",
        help="run a Python program and record it into a cassette",
        description="Runs the program in a fresh interpreter with PYTHONHASHSEED pinned, "
        "recording every model call, HTTP call, clock read and random draw. "
        "The exit code is the program's; 2 for a usage error (nothing runs).",
    )
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="replace the cassette if it exists (without it, an existing file is refused)",
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
    target_of(command)  # a command that cannot be recorded: say so before anything else
    run_id = new_run_id()
    cassette = cassette_path(args.output, run_id).resolve()
    _check_output(cassette, args.force)
    if args.force:
        cassette.unlink(missing_ok=True)
    report = record_command(command, cassette, keep_env=args.env, run_id=run_id)
    if not cassette.is_file():
        print(
            f"agentreplay: error: nothing was recorded into {cassette}: the program ended "
            f"(exit code {report.exit_code}) before the recording started",
            file=sys.stderr,
        )
        return report.exit_code or 1
    how = "interrupted, " if report.interrupted else ""
    print(f"agentreplay: recorded {cassette} ({how}exit code {report.exit_code})", file=sys.stderr)
    unrecorded = _unrecorded(cassette)
    if unrecorded:
        print(f"agentreplay: warning: {fmt.unrecorded(unrecorded)}", file=sys.stderr)
    print(f"agentreplay: replay it with: agentreplay replay {_short(cassette)}", file=sys.stderr)
    return report.exit_code


def _unrecorded(cassette: Path) -> list[str]:
    """What the cassette's index says the run reached without recording it; nothing if
    the index cannot say (the run was killed: its own warnings said it as it ran)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open_reader(cassette) as reader:
                return reader.unrecorded
    except CassetteError:
        return []


def _check_output(cassette: Path, force: bool) -> None:
    """Refuse, before the program runs, a cassette path that cannot be written."""
    if cassette.is_dir():
        raise UsageError(f"-o {cassette} is a directory; name a file, e.g. {cassette}/run.cassette")
    if cassette.exists() and not force:
        raise UsageError(f"-o {cassette} already exists; pass --force to replace it")
    check_writable(cassette)


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
