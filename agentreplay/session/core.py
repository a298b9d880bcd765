"""A session: one recorded or replayed run, and the ways to start one.

`Session` is one object for every usage style: a context manager, an async
context manager, and a decorator of sync and async functions. Starting it
installs the interceptors (on first use; nested sessions share them),
gives the run its root logical task, and pushes it on the stack of active
sessions; stopping it undoes exactly that.

Interceptors never decide anything: they describe what they saw and ask the
active session, through the methods at the bottom of this class, for the
value to hand back.
"""

from __future__ import annotations

import functools
import inspect
import os
import random
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import agentreplay.session.tasks as tasks
from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.errors import DivergenceError, UsageError
from agentreplay.session.tasks import TaskState

if TYPE_CHECKING:
    from agentreplay.session.matching import RequestInfo
    from agentreplay.session.recorder import ExchangeRecorder, ToolRecording
    from agentreplay.session.replayer import RecordedExchange

__all__ = ["Mode", "Session", "active_session", "parse_pace"]

F = TypeVar("F", bound=Callable[..., Any])


class ReplayedTool(Protocol):
    """A tool call answered from the recording: its body does not run."""

    @property
    def replayed(self) -> Literal[True]: ...

    def outcome(self) -> Any:
        """The recorded return value; raises the recorded exception."""
        ...


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


_urandom = os.urandom  # bound before any hook is installed
_stack: list[Session] = []
_stack_lock = threading.Lock()


def active_session() -> Session | None:
    """The innermost running session, if any."""
    return _stack[-1] if _stack else None


def _traceback_text(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))


class Session:
    """Shared machinery of `Recording` and `Replay`."""

    mode: Mode

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.root: TaskState | None = None
        self._token: Any = None
        self.running = False
        self.divergence: DivergenceError | None = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> Session:
        if self.running:
            raise UsageError(f"{type(self).__name__} for {self.path} is already running")
        from agentreplay.intercept import activate

        self.divergence = None
        self._open()
        self.root = TaskState("0", self)
        tasks.install_task_hooks()
        self._token = tasks.set_current_task(self.root)
        with _stack_lock:
            _stack.append(self)
        self.running = True
        activate()
        self._started()
        return self

    def stop(
        self, exc: BaseException | None = None, value: Any = None, *, returned: bool = False
    ) -> None:
        if not self.running:
            return
        from agentreplay.intercept import deactivate

        try:
            self._finish(exc, value, returned)
        finally:
            self.running = False
            deactivate()
            with _stack_lock:
                if self in _stack:
                    _stack.remove(self)
            try:
                tasks.reset_current_task(self._token)
            except ValueError:  # stopped from another context (e.g. an async generator)
                tasks.set_current_task(None)
            tasks.uninstall_task_hooks()
            self._close()

    # Subclass steps.
    def _open(self) -> None: ...
    def _started(self) -> None: ...
    def _finish(self, exc: BaseException | None, value: Any, returned: bool) -> None: ...
    def _close(self) -> None: ...

    # -- usage styles ----------------------------------------------------
    def __enter__(self) -> Session:
        return self.start()

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.stop(exc)

    async def __aenter__(self) -> Session:
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
        """Give the global `random` a recorded seed; its old state comes back at the end."""
        assert self.root is not None
        self._random_state: Any = random.getstate()
        data = self.entropy(self.root, "seed", 32, _urandom)
        random._inst.seed(int.from_bytes(data, "big"))

    def _restore_global_random(self) -> None:
        state = getattr(self, "_random_state", None)
        if state is not None:
            random.setstate(state)
            self._random_state = None

    # -- for interceptors ------------------------------------------------
    def http_replay(self, task: TaskState, info: RequestInfo) -> RecordedExchange | None:
        """The recorded exchange to hand back for this request, or None to go to the network."""
        raise NotImplementedError

    def http_record(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder | None:
        """Where to note the live exchange for this request, or None to leave it unrecorded."""
        raise NotImplementedError

    def clock(self, task: TaskState, kind: str, live: Callable[[], Any]) -> Any:
        raise NotImplementedError

    def entropy(
        self, task: TaskState, source: str, size: int, live: Callable[[int], bytes]
    ) -> bytes:
        raise NotImplementedError

    def tool_begin(
        self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> ToolRecording | ReplayedTool:
        raise NotImplementedError

    def pace_sync(self, gap: float) -> None:
        """Wait before handing out a replayed chunk recorded ``gap`` seconds after the last."""
        raise NotImplementedError

    async def pace_async(self, gap: float) -> None:
        raise NotImplementedError

    def run_task(self) -> TaskState | None:
        """The current logical task, if it belongs to this run and is not inside a tool."""
        state = tasks.current_task()
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
        from agentreplay.intercept.values import to_plain_or_none

        if exc is not None and not isinstance(exc, DivergenceError):
            return None, "", ErrorInfo.from_exception(exc, traceback=_traceback_text(exc))
        if returned:
            return to_plain_or_none(value), repr(value), None
        return None, "", None

    def outcome_event(
        self, exc: BaseException | None, value: Any, returned: bool, at: int
    ) -> RunOutcome:
        plain, text, error = self.outcome_fields(exc, value, returned)
        assert self.root is not None
        return RunOutcome(self.root.id, self.root.next_seq(), at, plain, text, error)
