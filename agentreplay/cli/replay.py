"""``agentreplay replay FILE``: run a recorded program again and say if it reproduced.

Exit codes: 0 reproduced; 1 not reproduced (diverged, or ended differently);
2 bad usage; 3 the cassette cannot be read or its program cannot be started;
4 a what-if or fork ran to its end without diverging, and the run raised or
exited non-zero; 5 not run: the cassette runs code from elsewhere and the
user did not agree.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from agentreplay.capture.listing import local_copy
from agentreplay.cassette import CassetteReader, open_reader
from agentreplay.debugger.chaos import perturb
from agentreplay.debugger.launch import (
    IsolationUnavailable,
    Launch,
    NotConfirmed,
    ReplayOptions,
    replay_cassette,
)
from agentreplay.debugger.messages import Verdict
from agentreplay.debugger.overrides import check_override
from agentreplay.errors import UsageError
from agentreplay.session.core import parse_pace

__all__ = [
    "EXIT_NOT_CONFIRMED",
    "EXIT_NOT_REPRODUCED",
    "EXIT_REPRODUCED",
    "EXIT_UNRUNNABLE",
    "EXIT_WHAT_IF_FAILED",
    "add_parser",
    "run",
]

EXIT_REPRODUCED = 0
EXIT_NOT_REPRODUCED = 1
EXIT_UNRUNNABLE = 3
EXIT_WHAT_IF_FAILED = 4
EXIT_NOT_CONFIRMED = 5


def _override(text: str) -> tuple[int, Any]:
    step, sep, value = text.partition("=")
    if not sep or not step.isdigit():
        raise argparse.ArgumentTypeError(f"expected N=FILE.json or N=JSON, not {text!r}")
    source = Path(value)
    if source.is_file():
        try:
            return int(step), json.loads(source.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(
                f"{step}={value}: the JSON in {value} is invalid: {exc.msg} at line "
                f"{exc.lineno} column {exc.colno}"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise argparse.ArgumentTypeError(f"{step}={value}: cannot read {value}: {exc}") from exc
    try:
        return int(step), json.loads(value)
    except ValueError as exc:
        if source.is_dir():
            raise argparse.ArgumentTypeError(f"{step}={value}: {value} is a directory") from exc
        if _looks_like_a_path(value):
            raise argparse.ArgumentTypeError(f"no such file: {value}") from exc
        if value.lstrip()[:1] in ("{", "[", '"'):
            where = f" (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise argparse.ArgumentTypeError(
                f"{step}=...: the JSON given is invalid: {reason}{where}"
            ) from exc
        raise argparse.ArgumentTypeError(
            f"override {text!r} is neither a JSON file nor JSON; text is a JSON string: "
            f"{step}='{json.dumps(value)}'"
        ) from exc


def _looks_like_a_path(value: str) -> bool:
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return value.endswith(".json") or any(sep in value for sep in separators)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run a recorded program again from its cassette, offline",
        description="Re-runs the recorded script or entrypoint with every input taken from "
        "the cassette, and reports 'reproduced' or where it diverged. "
        "Exit codes: 0 reproduced (a what-if or fork: it ran to its end and the run "
        "succeeded), 1 not reproduced or diverged, 2 usage error, 3 cassette missing or "
        "unreadable, or program cannot be started, 4 a what-if or fork ran to its end and "
        "the run raised or exited non-zero, 5 not run: code from elsewhere not agreed to.",
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
        help="where the new run is written: the run of --live-after or --override "
        "(default NAME.forkN.cassette, or NAME.whatifN.cassette for N the first step "
        "overridden), or the schedule of --chaos",
    )
    parser.add_argument(
        "--override",
        action="append",
        type=_override,
        default=[],
        metavar="N=FILE.json",
        help="replace step N's response with the JSON in FILE.json, or with N=JSON "
        "given inline (an assistant message or tool calls for an LLM step, "
        "{status, headers, body} for another HTTP step, a return value for a tool); "
        "repeatable",
    )
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="run the program in a network namespace of its own (Linux): not even C code "
        "or a subprocess can reach the network, loopback included",
    )
    parser.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="run the recorded program without asking, even when the cassette was made "
        "elsewhere and runs code from outside the working tree",
    )
    parser.add_argument(
        "--pace",
        default="instant",
        help="instant (default), recorded, or a speed factor for streams and sleeps",
    )
    parser.add_argument(
        "--chaos",
        type=int,
        metavar="SEED",
        help="replay under another schedule the recording allows, chosen by SEED (answers "
        "faster or slower, bodies cut elsewhere, threads in another order); with -o FILE, "
        "keep that schedule as a cassette that replays it every time",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    parse_pace(args.pace)
    cassette = local_copy(args.file)  # an s3:// cassette is downloaded first
    # Opening it here makes a missing or unreadable file exit 3, as with show and export.
    with open_reader(cassette) as opened:
        opened.check_has_events()
        _check_steps(opened, args)
    if args.chaos is not None:
        return _chaos(cassette, args)
    options = ReplayOptions(
        pace=args.pace,
        live_after=args.live_after,
        fork_path=str(Path(args.fork_output).resolve()) if args.fork_output else None,
        overrides=dict(args.override),
        break_at=args.break_at,
        break_on_divergence=args.break_on_divergence,
        isolate=args.isolate,
    )
    verdict = _launch(cassette, options, args.yes)
    if not isinstance(verdict, Verdict):
        return verdict
    for warning in verdict.warnings:
        print(f"agentreplay: warning: {warning}", file=sys.stderr)
    if verdict.divergence is not None:
        print(verdict.divergence.message, file=sys.stderr)
    print(f"agentreplay: {verdict.summary}")
    if verdict.fork:
        _new_run(args, cassette, Path(verdict.fork), verdict.divergence is not None)
    if verdict.reproduced:
        return EXIT_REPRODUCED
    if not verdict.what_if or verdict.divergence is not None:
        return EXIT_NOT_REPRODUCED
    # A what-if run changes the run on purpose: its exit code is how the changed run ended.
    return EXIT_WHAT_IF_FAILED if verdict.failed else EXIT_REPRODUCED


def _launch(cassette: Path, options: ReplayOptions, yes: bool) -> Verdict | int:
    """Replay ``cassette`` in a child process: its verdict, or the exit code to end with
    when there is none (not confirmed, no isolation here, the replay did not finish)."""
    try:
        report = replay_cassette(cassette.resolve(), options, confirm=_confirm(yes))
    except NotConfirmed as exc:
        print(f"agentreplay: {exc}", file=sys.stderr)
        return EXIT_NOT_CONFIRMED
    except IsolationUnavailable as exc:
        print(f"agentreplay: error: {exc}", file=sys.stderr)
        return EXIT_UNRUNNABLE
    if report.verdict is None:
        print(
            f"agentreplay: the replay did not finish (exit code {report.exit_code})",
            file=sys.stderr,
        )
        return EXIT_UNRUNNABLE
    return report.verdict


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _new_run(args: argparse.Namespace, original: Path, new: Path, diverged: bool) -> None:
    """Say where the fork or what-if run went, and how to compare it with the original."""
    if args.live_after is not None:
        print(f"agentreplay: the live part was recorded into {new}")
    else:
        print(f"agentreplay: the what-if run was recorded into {new}")
        if diverged:
            with open_reader(original) as opened:
                last = len(opened.step_infos())
            print(
                f"agentreplay: it stops where it diverged; to record what the run does from "
                f"there on, add --live-after {last} (it then goes live only where it diverges)"
            )
    command = shlex.join(["agentreplay", "diff", _short(original), _short(new)])
    print(f"agentreplay: compare it with the original: {command}")


def _chaos(cassette: Path, args: argparse.Namespace) -> int:
    if args.live_after is not None or args.override or args.break_at is not None:
        raise UsageError(
            "--chaos replays the run as recorded: it takes no --live-after, "
            "--override or --break-at"
        )
    with tempfile.TemporaryDirectory(prefix="agentreplay-chaos-") as tmp:
        target = Path(args.fork_output or Path(tmp) / f"{cassette.stem}.chaos{args.chaos}.cassette")
        chaos = perturb(cassette, target, args.chaos)
        options = ReplayOptions(pace=args.pace, isolate=args.isolate)
        verdict = _launch(target, options, args.yes)
    if not isinstance(verdict, Verdict):
        return verdict
    if verdict.divergence is not None:
        print(verdict.divergence.message, file=sys.stderr)
    print(f"agentreplay: chaos seed {args.chaos}: {chaos['perturbation']}")
    print(f"agentreplay: under chaos seed {args.chaos}: {verdict.summary}")
    if args.fork_output:
        print(f"agentreplay: the schedule is kept in {target}: agentreplay replay {target}")
    return EXIT_REPRODUCED if verdict.reproduced else EXIT_NOT_REPRODUCED


def _confirm(yes: bool) -> Any:
    def confirm(launch: Launch) -> bool:
        """Say what will run; ask first when it is code from elsewhere."""
        print(f"agentreplay: replaying {launch.line}", file=sys.stderr)
        for name in launch.refused_env:
            print(
                f"agentreplay: warning: the cassette sets {name}, which can make a program "
                f"load other code; not applied",
                file=sys.stderr,
            )
        if not launch.needs_consent:
            return True
        for reason in launch.outside:
            print(f"agentreplay: not recorded here, and {reason}", file=sys.stderr)
        if launch.code is not None:
            print("agentreplay: the code it runs:", file=sys.stderr)
            for line in launch.code.splitlines() or [""]:
                print(f"    {line}", file=sys.stderr)
        if yes:
            return True
        stdin = sys.stdin
        if stdin is None or stdin.closed or not stdin.isatty():
            return False
        print("agentreplay: run it? [y/N] ", end="", file=sys.stderr, flush=True)
        return stdin.readline().strip().lower() in ("y", "yes")

    return confirm


def _check_steps(cassette: CassetteReader, args: argparse.Namespace) -> None:
    """Refuse a step number the cassette does not have, rather than never acting on it,
    and an override that cannot stand for its step's response."""
    wanted = [("--break-at", args.break_at, 1)] if args.break_at is not None else []
    wanted += [("--override", step, 1) for step, _ in args.override]
    if args.live_after is not None:
        wanted.append(("--live-after", args.live_after, 0))
    if not wanted:
        return
    infos = cassette.step_infos()
    steps = len(infos)
    for option, number, lowest in wanted:
        if lowest <= number <= steps:
            continue
        has = f"{cassette.path} has {steps} step{'' if steps == 1 else 's'}"
        if steps < lowest:
            raise UsageError(f"{option} {number}: {has}, so there is no step to name")
        raise UsageError(
            f"{option} {number} is out of range: {has}, so N must be in {lowest}..{steps}"
        )
    for step, value in args.override:
        check_override(infos[step - 1], value, f"--override {step}")
