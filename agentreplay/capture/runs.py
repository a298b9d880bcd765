"""One captured run: a recording held in memory, beside the other runs of the process.

`CaptureRun` is a `Recording` with three differences:

- it is *scoped*: it owns only the tasks of its run (the request's task, and
  the tasks, threads and executor jobs that task starts), so concurrent runs
  in one server each get their own events; the global ``random`` is left
  alone (its root task draws from a generator of its own, seeded from a
  recorded draw, which a replay seeds the global one with);
- its events go to a `MemoryRun`, not to a file: at the end, `Capture`
  decides whether to keep it, and only then is anything written;
- it never raises into the application: a failure to start leaves the run
  unrecorded, a failure to record an event ends the recording of that run
  there (it is kept as truncated), and each is counted and logged.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from agentreplay.cassette.events import ErrorInfo
from agentreplay.cassette.memory import MemoryRun
from agentreplay.runtime import escape
from agentreplay.runtime.contract import RequestInfo
from agentreplay.runtime.tasks import TaskState
from agentreplay.session.recorder import ExchangeRecorder, Recorder, ToolRecording
from agentreplay.session.recording import Recording, base_header

if TYPE_CHECKING:
    from collections.abc import Callable

    from agentreplay.capture.settings import Settings

__all__ = ["CaptureRun", "Owner"]

_HOST = socket.gethostname()
_MEMORY: Final = Path("<memory>")


class Owner(Protocol):
    """What a captured run needs of the capture it belongs to (`core.Capture`)."""

    settings: Settings

    def trouble(self, counter: str, kind: str, message: str) -> None: ...

    def finished(self, run: CaptureRun) -> None: ...


class _Unrecorded(ToolRecording):
    """A tool call whose recording failed: its body runs, nothing is noted."""

    def __init__(self) -> None:
        pass

    def returned(self, value: Any) -> None:
        pass

    def raised(self, exc: BaseException) -> None:
        pass


class CaptureRun(Recording):
    """A run recorded into memory by production capture."""

    scoped = True

    def __init__(
        self,
        capture: Owner,
        kind: str,
        name: str,
        *,
        metadata: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            _MEMORY,
            redact=capture.settings.redact,
            metadata=metadata,
            header=header,
        )
        self.capture = capture
        self.kind = kind  # "entrypoint", "asgi" or "run"
        self.name = name
        self.flags: list[str] = []
        self.status: int | None = None  # an HTTP request's response status
        self.error: ErrorInfo | None = None
        self.memory: MemoryRun | None = None
        self.started_ns = 0
        self.duration = 0.0
        self._t0 = 0

    def __repr__(self) -> str:
        return f"<CaptureRun {self.name!r}{' running' if self.running else ''}>"

    @property
    def run_id(self) -> str | None:
        header = getattr(self, "header", None)
        return None if header is None else str(header["run_id"])

    @property
    def failed(self) -> bool:
        """It raised, or answered with a server error."""
        return self.error is not None or (self.status is not None and self.status >= 500)

    def flag(self, reason: str) -> None:
        """Keep this run whatever its outcome."""
        self.flags.append(str(reason))

    # -- lifecycle: never raises into the application -------------------------
    def start(self) -> CaptureRun:
        try:
            return super().start()
        except Exception as exc:
            self.capture.trouble("record_errors", "start", f"a run could not start: {exc!r}")
            return self

    def stop(
        self, exc: BaseException | None = None, value: Any = None, *, returned: bool = False
    ) -> None:
        if exc is not None and not isinstance(exc, GeneratorExit):
            self.error = ErrorInfo.from_exception(exc)
        try:
            super().stop(exc, value, returned=returned)
        except Exception as error:
            self.capture.trouble("record_errors", "stop", f"a run could not end: {error!r}")

    def _open(self) -> None:
        self.redactor = redactor = self.redaction.redactor()
        header = redactor.header(
            base_header("record", self.redaction, self.metadata, self.extra_header)
        )
        self.header = header
        self.started_ns = header["created_ns"]
        self._t0 = escape.perf_counter_ns()
        self.memory = MemoryRun(self.capture.settings.max_run_bytes)
        self.recorder = Recorder(self.memory, redactor)

    def _abort(self) -> None:
        if self.memory is not None:
            self.memory.abandon()

    def _close(self) -> None:
        self.duration = (escape.perf_counter_ns() - self._t0) / 1e9
        if self.memory is not None:
            self.memory.close()
        self.capture.finished(self)

    def describe(self) -> dict[str, Any]:
        """What the header and the manifest say about this run."""
        return {
            "kind": self.kind,
            "name": self.name,
            "metadata": dict(self.metadata or {}),
            "duration": round(self.duration, 6),
            "status": self.status,
            "error": None if self.error is None else self.error.type,
            "flags": list(self.flags),
            "truncated": self.memory is not None and self.memory.truncated,
            "host": _HOST,
        }

    # -- for interceptors: a failure to record ends the recording, not the run --
    def run_task(self) -> TaskState | None:
        return super().run_task() if self.running else None

    def _broken(self, exc: BaseException) -> None:
        if self.memory is not None:
            self.memory.truncated = True
        self.capture.trouble("record_errors", "record", f"recording a run failed: {exc!r}")

    def http_record(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder | None:
        try:
            return super().http_record(task, info)
        except Exception as exc:
            self._broken(exc)
            return None

    def clock(self, task: TaskState, kind: str, live: Callable[[], Any]) -> Any:
        value = live()
        try:
            assert self.recorder is not None
            self.recorder.clock(task, kind, value)
        except Exception as exc:
            self._broken(exc)
        return value

    def entropy(
        self, task: TaskState, source: str, size: int, live: Callable[[int], bytes]
    ) -> bytes:
        data = live(size)
        try:
            assert self.recorder is not None
            self.recorder.entropy(task, source, data)
        except Exception as exc:
            self._broken(exc)
        return data

    def tool_begin(
        self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> ToolRecording:
        try:
            return super().tool_begin(task, name, args, kwargs)
        except Exception as exc:
            self._broken(exc)
            return _Unrecorded()

    def span_start(self, task: TaskState, name: str) -> int | None:
        try:
            return super().span_start(task, name)
        except Exception as exc:
            self._broken(exc)
            return None

    def span_end(self, task: TaskState, start: int, error: ErrorInfo | None) -> None:
        try:
            super().span_end(task, start, error)
        except Exception as exc:
            self._broken(exc)

    def order_mark(self, task: TaskState, what: str, position: int | None) -> None:
        try:
            super().order_mark(task, what, position)
        except Exception as exc:
            self._broken(exc)
