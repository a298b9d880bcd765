"""The ``agentreplay`` command: ``main(argv) -> exit code``.

Each subcommand lives in its own module with an ``add_parser(subparsers)``
that registers it and a ``run(args) -> int`` that does the work.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from agentreplay._version import __version__
from agentreplay.cli import (
    check,
    demo,
    diff,
    export,
    import_vcr,
    ls,
    mark,
    promote,
    record,
    replay,
    show,
    tui,
)
from agentreplay.errors import AgentReplayError, CassetteError, CassetteWarning, UsageError

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNRUNNABLE = 3

_COMMANDS = (demo, record, replay, show, tui, diff, export, import_vcr, ls, check, mark, promote)
# Commands whose output is meant to be piped into ``head`` and the like. For the
# others a broken pipe may come from their own child process: it stays an error.
_PIPEABLE = ("show", "diff", "export", "ls")


class _Parser(argparse.ArgumentParser):
    """argparse, saying a mistake in one line (with where to read more), not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="agentreplay",
        description="Deterministic record and replay for AI agents.",
    )
    parser.add_argument("--version", action="version", version=f"agentreplay {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    shown = warnings.showwarning
    warnings.showwarning = _one_line(shown)
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        if args.command not in _PIPEABLE:
            raise
        _silence_stdout()
        return EXIT_OK
    except UsageError as exc:
        print(f"agentreplay: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CassetteError as exc:
        print(f"agentreplay: error: {exc}", file=sys.stderr)
        return EXIT_UNRUNNABLE
    except AgentReplayError as exc:
        print(f"agentreplay: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        # A path given on the command line that cannot be written or read (an output in
        # a missing folder, a folder where a file goes): the user's to fix, in one line.
        if exc.filename is None:
            raise
        print(f"agentreplay: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    finally:
        warnings.showwarning = shown
    return code


def _one_line(shown: Any) -> Any:
    """``warnings.showwarning`` that says a damaged cassette's warning in one line, as the
    commands' own warnings are said, wherever it comes from (check's worker threads)."""

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, CassetteWarning):
            print(f"agentreplay: warning: {message}", file=sys.stderr)
        else:
            shown(message, category, *args, **kwargs)

    return show


def _silence_stdout() -> None:
    """The reader went away (``agentreplay show ... | head``): that is not an error.

    Python's documented recipe (``signal`` module, "Note on SIGPIPE"): point
    stdout at devnull, so the interpreter's final flush does not raise again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured, closed)
        pass
