"""``agentreplay tui FILE | A B | DIR``: the terminal debugger.

Exit codes: 0 when the app is quit; 2 bad usage (a bad key config); 3 a
cassette that cannot be read, or no cassettes under DIR. Everything is
checked before the app takes the screen, so an error is one line on the
terminal, never a broken screen.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agentreplay.errors import CassetteError, UsageError
from agentreplay.steps import open_cassette

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tui",
        help="browse a run, diff two runs, or list the runs in a directory, in the terminal",
        description="Opens the terminal debugger on one cassette (FILE), the diff of two (A B), "
        "or the cassettes under a directory (DIR). Press ? in it for the keys. "
        "Exit codes: 0 quit, 2 usage error, 3 cassette missing or unreadable.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="FILE, A B, or DIR")
    parser.set_defaults(run=run)


def _check(paths: list[Path]) -> None:
    if len(paths) > 2:
        raise UsageError("give one cassette, one directory, or two cassettes to compare")
    if len(paths) == 1 and paths[0].is_dir():
        if not any(paths[0].rglob("*.cassette")):
            raise CassetteError(f"no .cassette files under {paths[0]}")
        return
    for path in paths:
        if path.is_dir():
            raise UsageError(f"{path} is a directory: compare two cassette files")
        with open_cassette(path) as cassette:
            cassette.step_infos()  # an unreadable index or header fails here, not on screen


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    _check(paths)
    from agentreplay.tui.app import AgentReplayApp, action_ids
    from agentreplay.tui.keymap import load_settings

    app = AgentReplayApp(paths, settings=load_settings(action_ids()))
    code = app.run()
    return code or 0
