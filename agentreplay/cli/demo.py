"""``agentreplay demo``: a flaky agent caught failing, then replayed until it fails again."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agentreplay.errors import UsageError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="record a flaky agent until it fails, then replay the failure twice",
        description="Starts a local model server that answers at random and a local tool "
        "server (no API key, no network), runs examples/support_agent.py until "
        "a run fails, and replays that run twice.",
    )
    parser.add_argument("--dir", default="runs/demo", help="where to keep the cassettes")
    parser.add_argument("--seed", type=int, help="make the random model repeatable")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="only start the two servers, until Ctrl-C, to run the example agent by hand",
    )
    parser.add_argument(
        "--ports",
        default="8000,8001",
        metavar="MODEL,TOOLS",
        help="ports of the model and tool servers with --serve (default 8000,8001)",
    )
    parser.set_defaults(run=run)


def _ports(text: str) -> tuple[int, int]:
    try:
        model, tools = (int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--ports takes two port numbers, MODEL,TOOLS, not {text!r}") from None
    return model, tools


def run(args: argparse.Namespace) -> int:
    from agentreplay.cli.demo_run import run_demo, serve

    if args.serve:
        return serve(Path(args.dir), *_ports(args.ports), seed=args.seed)
    return run_demo(Path(args.dir), seed=args.seed)
