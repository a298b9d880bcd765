"""The debugger loop from the run screen: ``b`` breaks into pdb at a step, ``F`` forks
live after it, ``o`` edits its answer and runs the what-if.

All three run `replay_cassette`, the function behind ``agentreplay replay``;
this module only hands it the terminal (``App.suspend``) or a worker, and
opens what came out of it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

from textual.app import SuspendNotSupported

from agentreplay.cassette.tracking import StepInfo
from agentreplay.debugger.launch import ReplayOptions, RunReport, replay_cassette
from agentreplay.debugger.overrides import check_override, recorded_answer
from agentreplay.errors import AgentReplayError
from agentreplay.steps import Step
from agentreplay.tui.screens.progress import ProgressScreen
from agentreplay.tui.widgets.status_line import StatusLine


class RunHost(Protocol):
    """What the loop needs of the screen it starts from (the run screen)."""

    path: Path
    infos: list[StepInfo]

    @property
    def app(self) -> Any: ...

    @property
    def status(self) -> StatusLine: ...

    def opened(self, original: Path, produced: Path, message: str) -> None: ...


__all__ = ["RunHost", "break_at", "fork_after", "free_path", "what_if"]


def break_at(screen: RunHost, number: int) -> None:
    """Replay to step ``number`` in pdb, in this terminal; come back when it ends."""
    if not number:
        return
    path = screen.path.resolve()
    try:
        with screen.app.suspend():
            print(f"agentreplay: replaying {path.name} to step {number} in pdb (c continues)")
            report = replay_cassette(path, ReplayOptions(break_at=number))
    except SuspendNotSupported:
        screen.status.say("this terminal cannot be handed over to pdb", error=True)
        return
    except AgentReplayError as exc:
        screen.status.say(str(exc), error=True)
        return
    screen.status.say(_summary(report, "replay"), error=not _finished(report))


def free_path(path: Path) -> Path:
    """``path``, or ``NAME-2.EXT``, ``NAME-3.EXT``... if it is taken."""
    candidate, count = path, 1
    while candidate.exists():
        count += 1
        candidate = path.with_name(f"{path.stem}-{count}{path.suffix}")
    return candidate


def fork_after(screen: RunHost, number: int) -> None:
    """Replay steps 1..number, then go live, recording into a new cassette."""
    if not number:
        return
    path = screen.path.resolve()
    fork = free_path(path.with_name(f"{path.stem}.fork{number}{path.suffix}"))
    options = ReplayOptions(live_after=number, fork_path=str(fork))
    _run(screen, f"forking live after step {number} into {fork.name}", path, options, fork)


def what_if(screen: RunHost, step: Step | None) -> None:
    """Edit the step's answer in $EDITOR, then replay with it and go live where the run
    takes another way."""
    if step is None:
        screen.status.say("the step is still loading", error=True)
        return
    try:
        answer = recorded_answer(step)
    except AgentReplayError as exc:
        screen.status.say(str(exc), error=True)
        return
    path = screen.path.resolve()
    edited = _edit(screen, path, step.number, answer)
    if edited is None:
        return
    info = screen.infos[step.number - 1]
    try:
        check_override(info, edited)
    except AgentReplayError as exc:
        screen.status.say(str(exc), error=True)
        return
    whatif = free_path(path.with_name(f"{path.stem}.whatif{step.number}{path.suffix}"))
    options = ReplayOptions(
        overrides={step.number: edited}, live_after=len(screen.infos), fork_path=str(whatif)
    )
    _run(screen, f"what-if of step {step.number} into {whatif.name}", path, options, whatif)


def _edit(screen: RunHost, path: Path, number: int, answer: Any) -> Any | None:
    """The answer as the user left it in the editor; None if unchanged or not JSON."""
    # A file of its own (two edits at once, or another user's file planted in a
    # shared temporary folder, never meet), removed once read unless it is not JSON.
    handle, name = tempfile.mkstemp(prefix=f"agentreplay-{path.stem}-step{number}-", suffix=".json")
    target = Path(name)
    original = json.dumps(answer, indent=2, ensure_ascii=False) + "\n"
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(original)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    command = [*shlex.split(editor), str(target)]
    try:
        try:
            with screen.app.suspend():
                subprocess.run(command, check=False)
        except SuspendNotSupported:  # no terminal to lend: an editor with a window of its own
            subprocess.run(command, check=False, stdin=subprocess.DEVNULL)
    except OSError as exc:
        target.unlink(missing_ok=True)
        screen.status.say(f"cannot start the editor {editor!r}: {exc}", error=True)
        return None
    text = target.read_text(encoding="utf-8")
    if text == original:
        target.unlink()
        screen.status.say(f"step {number}'s answer was not changed: no what-if to run")
        return None
    try:
        edited = json.loads(text)
    except ValueError as exc:
        screen.status.say(f"{target} is not JSON ({exc}); press o to edit again", error=True)
        return None
    target.unlink()
    return edited


def _run(screen: RunHost, title: str, path: Path, options: ReplayOptions, output: Path) -> None:
    def job(cancel: threading.Event) -> RunReport:
        return replay_cassette(path, options, capture=True, cancel=cancel)

    def done(report: RunReport | str | None) -> None:
        if not isinstance(report, RunReport):
            screen.status.say(f"{title}: {report or 'stopped'}", error=True)
            return
        if not output.exists():
            screen.status.say(_summary(report, title) + " (nothing was recorded)", error=True)
            return
        screen.opened(path, output, _summary(report, title))

    screen.app.push_screen(ProgressScreen(title, job), done)


def _finished(report: RunReport) -> bool:
    verdict = report.verdict
    return verdict is not None and (verdict.reproduced or verdict.what_if)


def _summary(report: RunReport, what: str) -> str:
    if report.verdict is None:
        tail = report.output.strip().splitlines()[-1:] or [f"exit code {report.exit_code}"]
        return f"{what} did not finish: {tail[0]}"
    return report.verdict.summary or f"{what} ended"
