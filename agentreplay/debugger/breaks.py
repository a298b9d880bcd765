"""Stopping in pdb at the agent's own line that issues a step.

The interceptor that notices step N is deep inside an SDK, so a plain
``breakpoint()`` would stop there. Instead pdb is shown the agent's frame
(the first frame outside library code), with its locals as the recording
made them; ``next`` and ``step`` carry on from there, skipping library code.

``PYTHONBREAKPOINT`` is respected: ``0`` disables breaking; another
debugger whose function takes the frame to stop in (``ipdb.set_trace`` and
the like take ``frame=``) is shown the agent's frame too; any other is
started through ``sys.breakpointhook()``.

The prompt is outside the run: whatever the debugger runs (the expressions
typed at it, its own code) runs in a quiet task of the session, as a tool's
body does, so ``uuid.uuid4()``, ``time.time()``, ``random.random()`` or a
recorded tool typed at the prompt get real values and neither consume nor
record anything. Every debugger built on `bdb` (pdb, ipdb, pdb++) runs its
prompt inside ``Bdb.trace_dispatch``, which is where the run is left.

From pdb, ``goto N`` and ``back`` travel in time: the replay starts again
and stops before step N (or the step before this one), keeping the
breakpoints set here. Replays are deterministic, so this is a re-execution,
as long as a replay takes.
"""

from __future__ import annotations

import bdb
import importlib
import inspect
import os
import pdb
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from agentreplay.runtime.tasks import current_task, reset_current_task, set_current_task

__all__ = ["TimeTravel", "break_into", "outside_the_run"]

_SKIP = [
    "agentreplay",
    "agentreplay.*",
    "httpx",
    "httpx.*",
    "httpx2",
    "httpx2.*",
    "httpcore*",
    "h11*",
    "h2*",
    "anyio*",
    "sniffio*",
    "openai",
    "openai.*",
    "anthropic",
    "anthropic.*",
    "pydantic*",
    "requests*",
    "urllib3*",
    "aiohttp*",
    "yarl*",
    "multidict*",
    "asyncio*",
    "concurrent*",
    "threading",
    "contextlib",
    "contextvars",
    "functools",
    "typing*",
    "json*",
    "selectors",
    "socket",
    "ssl",
    "http.*",
    "email.*",
    "importlib*",
    "_weakrefset",
]


@contextmanager
def outside_the_run() -> Iterator[None]:
    """Run the block in a quiet task of the current run: nothing it does is recorded or
    replayed, and it draws from no generator of the run."""
    state = current_task()
    if state is None or state.quiet:
        yield
        return
    token = set_current_task(state.child(machinery=True))
    try:
        yield
    finally:
        reset_current_task(token)


def _leave_the_run_while_debugging() -> None:
    """Make every bdb-based debugger run its own work outside the run (once)."""
    if getattr(bdb.Bdb.trace_dispatch, "_outside_the_run", False):
        return
    original = bdb.Bdb.trace_dispatch

    def trace_dispatch(self: bdb.Bdb, frame: FrameType, event: str, arg: Any) -> Any:
        with outside_the_run():
            return original(self, frame, event, arg)

    trace_dispatch._outside_the_run = True  # type: ignore[attr-defined]
    bdb.Bdb.trace_dispatch = trace_dispatch  # type: ignore[method-assign]


class TimeTravel:
    """Where ``goto``/``back`` go: the replay's steps and a way to start it again."""

    def __init__(
        self, steps: int, current: Callable[[], int], restart: Callable[[int, list[Any]], None]
    ) -> None:
        self.steps = steps
        self.current = current
        self.restart = restart  # (step, breakpoints): never returns
        self.breakpoints: list[dict[str, Any]] = []  # to set again at the first stop

    @staticmethod
    def saved_breakpoints() -> list[dict[str, Any]]:
        kept = []
        for point in bdb.Breakpoint.bpbynumber:
            if point is None or "agentreplay" in point.file.split(os.sep):
                continue
            kept.append(
                {
                    "file": point.file,
                    "line": point.line,
                    "temporary": point.temporary,
                    "cond": point.cond,
                    "enabled": point.enabled,
                }
            )
        return kept


class _ReplayPdb(pdb.Pdb):
    """pdb, with ``goto N`` and ``back`` when the replay can be started again."""

    def __init__(self, travel: TimeTravel | None) -> None:
        super().__init__(skip=_SKIP)
        self.travel = travel

    def restore(self) -> None:
        if self.travel is None:
            return
        for point in self.travel.breakpoints:
            self.set_break(point["file"], point["line"], point["temporary"], point["cond"])
            if not point["enabled"]:
                bdb.Breakpoint.bpbynumber[-1].disable()  # type: ignore[union-attr]
        self.travel.breakpoints = []

    def _go(self, step: int) -> None:
        travel = self.travel
        if travel is None:
            self.error("goto and back need `agentreplay replay` (script mode) to start again")
            return
        if not 1 <= step <= travel.steps:
            self.error(f"there is no step {step}: this run has steps 1..{travel.steps}")
            return
        self.message(f"agentreplay: replaying again, to stop before step {step}")
        travel.restart(step, TimeTravel.saved_breakpoints())

    def do_goto(self, arg: str) -> None:
        """goto N
        Replay the run again from the start and stop before step N (earlier or later
        than this one), keeping the breakpoints set here."""
        try:
            step = int(arg)
        except ValueError:
            self.error(f"goto needs a step number, not {arg!r}")
            return
        self._go(step)

    def do_back(self, arg: str) -> None:
        """back [K]
        Replay the run again from the start and stop K steps (default 1) before the
        step it is stopped at, keeping the breakpoints set here."""
        try:
            count = int(arg) if arg.strip() else 1
        except ValueError:
            self.error(f"back takes a number of steps, not {arg!r}")
            return
        if self.travel is None:
            self._go(0)
            return
        self._go(self.travel.current() - count)


def _hook(spec: str) -> Callable[..., Any] | None:
    """The ``PYTHONBREAKPOINT`` function, if it takes the frame to stop in (``frame=``)."""
    module, _, name = spec.rpartition(".")
    try:
        target = getattr(importlib.import_module(module or "builtins"), name)
        parameters = inspect.signature(target).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return None  # sys.breakpointhook() says what is wrong with it
    return target if "frame" in parameters else None


def break_into(frame: FrameType | None, banner: str, travel: TimeTravel | None = None) -> None:
    """Open pdb at ``frame`` (the agent's call site) after printing ``banner``."""
    hook = os.environ.get("PYTHONBREAKPOINT", "")
    if hook == "0":
        return
    _leave_the_run_while_debugging()
    print(banner, file=sys.stderr, flush=True)
    if hook not in ("", "pdb.set_trace") or frame is None:
        other = _hook(hook) if frame is not None else None
        with outside_the_run():
            if other is not None:
                other(frame=frame)  # ipdb's set_trace and the like: at the agent's frame
            else:
                sys.breakpointhook()
        return
    if travel is not None:
        print(
            f"agentreplay: goto N replays again and stops before step N (1..{travel.steps}); "
            f"back goes to the step before; breakpoints are kept (help goto)",
            file=sys.stderr,
            flush=True,
        )
    debugger = _ReplayPdb(travel)
    debugger.restore()
    debugger.reset()
    outer: FrameType | None = frame
    while outer is not None:
        outer.f_trace = debugger.trace_dispatch
        debugger.botframe = outer
        outer = outer.f_back
    with outside_the_run():
        debugger.interaction(frame, None)
    if debugger.quitting:
        raise bdb.BdbQuit
    continuing = debugger.stopframe is debugger.botframe and debugger.stoplineno == -1
    if not continuing or debugger.breaks:  # breakpoints in functions called later too
        sys.settrace(debugger.trace_dispatch)  # next/step go on from the agent's frame
