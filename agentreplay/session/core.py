"""A session: one recorded or replayed run, and the ways to start one.

`Session` is one object for every usage style: a context manager, an async
context manager, and a decorator of sync and async functions. Starting it
installs the interceptors (on first use; nested sessions share them) and
gives the run its root logical task, which makes it the active session of
everything the run does (`agentreplay.runtime.scope`); stopping it undoes
exactly that. Starting is all or nothing: whatever fails while starting
undoes what was already done, and the error propagates.

Interceptors never decide anything: they describe what they saw and ask the
active session, through `agentreplay.runtime.contract.ActiveSession`, for
the value to hand back. `Recording` and `Replay` implement that Protocol.
"""

from __future__ import annotations

import functools
import inspect
import os
import random
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.cassette.values import to_plain_or_none
from agentreplay.cassette.writer import MAX_UNRECORDED
from agentreplay.errors import DivergenceError, UsageError
from agentreplay.runtime import escape, registry
from agentreplay.runtime.tasks import (
    TaskState,
    current_task,
    forget_jobs,
    reset_current_task,
    set_current_task,
)

__all__ = ["Mode", "Session", "parse_pace", "user_traceback"]

F = TypeVar("F", bound=Callable[..., Any])


class Mode(StrEnum):
    """What a session does with the run's non-deterministic inputs."""

    OFF = "off"
    """Nothing: no patching, no cassette."""
    RECORD = "record"
    """Let every input through and write it to the cassette."""
    REPLAY = "replay"
    """Hand back the recorded inputs; never touch the network."""

    @classmethod
    def parse(cls, value: str | Mode) -> Mode:
        try:
            return cls(value.strip().lower() if isinstance(value, str) else value)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise UsageError(f"unknown mode {value!r}; expected one of: {choices}") from None


def parse_pace(pace: str | float) -> float:
    """How fast replayed streams and sleeps run: a speed factor, inf for instant."""
    if pace == "instant":
        return float("inf")
    if pace == "recorded":
        return 1.0
    try:
        factor = float(pace)
    except (TypeError, ValueError):
        raise UsageError(
            f"pace must be 'instant', 'recorded' or a speed factor, not {pace!r}"
        ) from None
    if not factor > 0:
        raise UsageError(f"pace factor must be positive, not {pace!r}")
    return factor


class Session:
    """What `Recording` and `Replay` share: the lifecycle and the usage styles."""

    mode: Mode
    scoped = False
    """One of several sessions running at once in the process, each owning only the
    tasks of its run (production capture); not a whole-process session."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path if isinstance(path, Path) else Path(path)
        self.root: TaskState | None = None
        self.running = False
        self.started = False  # ever: a session that never started recorded nothing
        self.divergence: DivergenceError | None = None
        self.unrecorded: list[str] = []
        """Addresses the run connected to by a way that is not recorded (``http.client``)."""
        self._token: Any = None
        self._random_state: Any = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> Self:
        if self.running:
            raise UsageError(f"{type(self).__name__} for {self.path} is already running")
        self.divergence = None
        self.unrecorded = []
        undo: list[Callable[[], object]] = []  # run, last first, if a step below raises
        try:
            self._open()
            undo.append(self._abort)
            registry.activate()
            undo.append(registry.deactivate)
            self.root = TaskState("0", self)
            self._token = token = set_current_task(self.root)
            undo.append(lambda: _leave(token))
            self.running = True
            undo.append(lambda: setattr(self, "running", False))
            self._started()
        except BaseException:
            for step in reversed(undo):
                step()
            raise
        self.started = True
        return self

    def stop(
        self, exc: BaseException | None = None, value: Any = None, *, returned: bool = False
    ) -> None:
        if not self.running:
            return
        try:
            self._finish(exc, value, returned)
        finally:
            self.running = False
            forget_jobs(self)  # a job it never heard the end of must not count for another
            try:
                _leave(self._token)
            finally:
                try:
                    registry.deactivate()
                finally:
                    self._close()

    # Subclass steps: _open may fail with nothing to undo; _abort undoes it.
    def _open(self) -> None: ...
    def _abort(self) -> None: ...
    def _started(self) -> None: ...
    def _finish(self, exc: BaseException | None, value: Any, returned: bool) -> None: ...
    def _close(self) -> None: ...
    def _note_unrecorded(self, address: str) -> None: ...

    def unrecorded_connection(self, address: str) -> bool:
        if address in self.unrecorded or len(self.unrecorded) >= MAX_UNRECORDED:
            return False  # said already, or said of enough addresses for one run
        self.unrecorded.append(address)
        self._note_unrecorded(address)
        return True

    # -- usage styles ----------------------------------------------------
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.stop(exc)

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.stop(exc)

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                self.start()
                try:
                    result = await func(*args, **kwargs)
                except BaseException as exc:
                    self.stop(exc)
                    raise
                self.stop(None, result, returned=True)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.start()
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                self.stop(exc)
                raise
            self.stop(None, result, returned=True)
            return result

        return wrapper  # type: ignore[return-value]

    def _seed_global_random(self) -> None:
        """Give the global `random` a recorded seed; its old state comes back at the end.

        A session that runs beside others in the process (`scoped`) must not move
        the one global generator: its root task gets a generator of its own, seeded
        from the same recorded draw, so its replay (a whole-process one, which seeds
        the global) hands out the same numbers."""
        assert self.root is not None
        if self.scoped:
            data = self.entropy(self.root, "seed", 32, escape.urandom)
            self.root.random = random.Random(int.from_bytes(data, "big"))
            return
        self._random_state = random.getstate()
        data = self.entropy(self.root, "seed", 32, escape.urandom)
        random._inst.seed(int.from_bytes(data, "big"))

    def _restore_global_random(self) -> None:
        if self._random_state is not None:
            random.setstate(self._random_state)
            self._random_state = None

    # -- for interceptors (see agentreplay.runtime.contract.ActiveSession) ---
    def entropy(
        self, task: TaskState, source: str, size: int, live: Callable[[int], bytes]
    ) -> bytes:
        raise NotImplementedError  # both kinds of session answer it

    def run_task(self) -> TaskState | None:
        """The current logical task, if it belongs to this run and is not inside a tool."""
        state = current_task()
        if state is None or state.owner is not self or state.quiet:
            return None
        return state

    def diverge(self, error: DivergenceError) -> DivergenceError:
        """Remember the first divergence (even if the agent swallows it) and return it."""
        if self.divergence is None:
            self.divergence = error
        return error

    @staticmethod
    def outcome_fields(
        exc: BaseException | None, value: Any, returned: bool
    ) -> tuple[Any, str, ErrorInfo | None]:
        if exc is not None and not isinstance(exc, DivergenceError):
            text = "".join(traceback.format_exception(type(exc), exc, user_traceback(exc)))
            return None, "", ErrorInfo.from_exception(exc, traceback=text)
        if returned:
            return to_plain_or_none(value), repr(value), None
        return None, "", None

    def outcome_event(
        self, exc: BaseException | None, value: Any, returned: bool, at: int
    ) -> RunOutcome:
        plain, text, error = self.outcome_fields(exc, value, returned)
        assert self.root is not None
        return RunOutcome(self.root.id, self.root.next_seq(), at, plain, text, error)


_TOOL_FILES = (f"{os.sep}agentreplay{os.sep}", f"{os.sep}runpy.py", "<frozen runpy>")


def user_traceback(exc: BaseException) -> TracebackType | None:
    """The exception's traceback without the frames above the user's code that belong to
    agentreplay or runpy (script mode starts the program through both), as pytest hides
    its own; all of it if it has no other frame."""
    first = tb = exc.__traceback__
    while tb is not None and any(part in tb.tb_frame.f_code.co_filename for part in _TOOL_FILES):
        tb = tb.tb_next
    return tb if tb is not None else first


def _leave(token: Any) -> None:
    """Take the run's root task out of the context that started it."""
    try:
        reset_current_task(token)
    except ValueError:  # stopped from another context (e.g. an async generator)
        set_current_task(None)
