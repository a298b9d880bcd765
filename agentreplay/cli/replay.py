"""``agentreplay replay FILE``: run a recorded program again and say if it reproduced.

Exit codes: 0 reproduced; 1 not reproduced (diverged, or ended differently);
2 bad usage; 3 the cassette cannot be read or its program cannot be started.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agentreplay.debugger.launch import ReplayOptions, replay_cassette
from agentreplay.errors import UsageError

__all__ = ["EXIT_NOT_REPRODUCED", "EXIT_REPRODUCED", "EXIT_UNRUNNABLE", "add_parser", "run"]

EXIT_REPRODUCED = 0
EXIT_NOT_REPRODUCED = 1
EXIT_UNRUNNABLE = 3


def _override(text: str) -> tuple[int, Any]:
    step, sep, value = text.partition("=")
    if not sep or not step.isdigit():
        raise argparse.ArgumentTypeError(f"expected N=FILE.json or N=JSON, not {text!r}")
    source = Path(value)
    try:
        raw = source.read_text(encoding="utf-8") if source.is_file() else value
        return int(step), json.loads(raw)
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"override {text!r}: {exc}") from exc


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run a recorded program again from its cassette, offline",
        description="Re-runs the recorded script or entrypoint with every input taken from "
        "the cassette, and reports 'reproduced' or where it diverged. "
        "Exit codes: 0 reproduced, 1 not reproduced, 2 usage error, "
        "3 cassette unreadable or program cannot be started.",
    )
    parser.add_argument("file", help="the cassette")
    parser.add_argument(
        "--break-at",
        type=int,
        metavar="N",
        help="stop in pdb at the agent's line that issues step N",
    )
    parser.add_argument(
        "--break-on-divergence", action="store_true", help="stop in pdb where the run diverges"
    )
    parser.add_argument(
        "--live-after",
        type=int,
        metavar="N",
        help="replay steps 1..N, then go live and record into a new cassette",
    )
    parser.add_argument(
        "-o",
        "--fork-output",
        metavar="FILE",
        help="where --live-after writes (default NAME.forkN.cassette)",
    )
    parser.add_argument(
        "--override",
        action="append",
        type=_override,
        default=[],
        metavar="N=FILE.json",
        help="replace step N's response (an assistant message or tool calls "
        "for an LLM step, a return value for a tool)",
    )
    parser.add_argument(
        "--pace",
        default="instant",
        help="instant (default), recorded, or a speed factor for streams and sleeps",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from agentreplay.session.core import parse_pace

    parse_pace(args.pace)
    cassette = Path(args.file)
    if not cassette.exists():
        raise UsageError(f"no such cassette: {cassette}")
    options = ReplayOptions(
        pace=args.pace,
        live_after=args.live_after,
        fork_path=str(Path(args.fork_output).resolve()) if args.fork_output else None,
        overrides=dict(args.override),
        break_at=args.break_at,
        break_on_divergence=args.break_on_divergence,
    )
    report = replay_cassette(cassette.resolve(), options)
    result = report.result
    if result is None:
        print(
            f"agentreplay: the replay did not finish (exit code {report.exit_code})",
            file=sys.stderr,
        )
        return EXIT_UNRUNNABLE
    if result.get("divergence"):
        print(result["divergence"]["message"], file=sys.stderr)
    print(f"agentreplay: {result['summary']}")
    if result.get("fork"):
        print(f"agentreplay: the live part was recorded into {result['fork']}")
    return EXIT_REPRODUCED if result["reproduced"] else EXIT_NOT_REPRODUCED
