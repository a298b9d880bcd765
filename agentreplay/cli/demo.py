"""``agentreplay demo``: a flaky agent caught failing, then replayed until it fails again."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from agentreplay.demo.run import run_demo

    return run_demo(Path(args.dir), seed=args.seed)
