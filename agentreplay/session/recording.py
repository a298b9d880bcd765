"""`record(path)`: let every input through and write it to a cassette."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from agentreplay._version import __version__
from agentreplay.cassette.events import ErrorInfo
from agentreplay.cassette.writer import CassetteWriter
from agentreplay.runtime import escape
from agentreplay.runtime.contract import RecordedExchange, RequestInfo
from agentreplay.runtime.tasks import TaskState
from agentreplay.session.core import Mode, Session
from agentreplay.session.environment import new_run_id
from agentreplay.session.provenance import ORIGIN, stamp
from agentreplay.session.recorder import ExchangeRecorder, Recorder, ToolRecording
from agentreplay.session.redaction import Redaction, Redactor

__all__ = ["Recording", "base_header"]

_DEFAULTS: Final = Redaction()
"""The default rules (immutable): one for every recording given none."""


def base_header(
    mode: str, redaction: Redaction, metadata: dict[str, Any] | None, extra: dict[str, Any] | None
) -> dict[str, Any]:
    now_ns = escape.time_ns()
    header: dict[str, Any] = {
        "agentreplay": __version__,
        "mode": mode,
        "run_id": new_run_id(),
        "created": datetime.fromtimestamp(now_ns / 1e9, UTC).isoformat(),
        "created_ns": now_ns,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "argv": list(sys.argv),
        "cwd": os.getcwd(),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "redaction": redaction.describe(),
        "entrypoint": None,
        "args": None,
        "metadata": dict(metadata or {}),
    }
    header.update(extra or {})
    header[ORIGIN] = stamp(header)  # last: it marks what the header says to run
    return header


class Recording(Session):
    """A run being recorded. Use `agentreplay.record(path)` to make one."""

    mode = Mode.RECORD
    virtual_time = False
    pace = 1.0
    offline = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        redact: Redaction | None = None,
        metadata: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(path)
        self.redaction = redact if redact is not None else _DEFAULTS
        self.metadata = metadata
        self.extra_header = header
        self.recorder: Recorder | None = None
        self.redactor: Redactor | None = None
        self.replaced = False
        """Starting replaced a cassette that was at `path` (a fixed name: each run
        records over the last, as a log file does)."""

    def __repr__(self) -> str:
        return f"<Recording {str(self.path)!r}{' running' if self.running else ''}>"

    def _open(self) -> None:
        # The environment's secrets are learnt now, before the header (argv, kept
        # variables) is written.
        self.redactor = redactor = self.redaction.redactor()
        header = redactor.header(
            base_header("record", self.redaction, self.metadata, self.extra_header)
        )
        self.header = header
        self.replaced = self.path.is_file()
        self.recorder = Recorder(CassetteWriter(self.path, header), redactor)

    def _abort(self) -> None:
        """Starting failed: the cassette holds nothing worth keeping."""
        if self.recorder is not None:
            self.recorder.writer.abandon()
            self.path.unlink(missing_ok=True)
            self.recorder = None

    def _started(self) -> None:
        self._seed_global_random()

    def _finish(self, exc: BaseException | None, value: Any, returned: bool) -> None:
        assert self.recorder is not None
        self.recorder.outcome(self.outcome_event(exc, value, returned, self.recorder.now()))

    def _close(self) -> None:
        self._restore_global_random()
        if self.recorder is not None:
            self.recorder.writer.close()

    def _note_unrecorded(self, address: str) -> None:
        if self.recorder is not None:
            self.recorder.writer.note_unrecorded(address)

    # -- for interceptors ------------------------------------------------
    def http_replay(self, task: TaskState, info: RequestInfo) -> None:
        return None

    def http_record(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder | None:
        assert self.recorder is not None
        return self.recorder.http(task, info)

    def clock(self, task: TaskState, kind: str, live: Callable[[], Any]) -> Any:
        value = live()
        assert self.recorder is not None
        self.recorder.clock(task, kind, value)
        return value

    def entropy(
        self, task: TaskState, source: str, size: int, live: Callable[[int], bytes]
    ) -> bytes:
        data = live(size)
        assert self.recorder is not None
        self.recorder.entropy(task, source, data)
        return data

    def tool_begin(
        self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> ToolRecording:
        assert self.recorder is not None
        return ToolRecording(self.recorder, task, self.recorder.tool_call(task, name, args, kwargs))

    def span_start(self, task: TaskState, name: str) -> int | None:
        assert self.recorder is not None
        return self.recorder.step_start(task, name)

    def span_end(self, task: TaskState, start: int, error: ErrorInfo | None) -> None:
        assert self.recorder is not None
        self.recorder.step_end(task, start, error)

    def order_wait(self, task: TaskState, what: str) -> int | None:
        return None

    def order_mark(self, task: TaskState, what: str, position: int | None) -> None:
        assert self.recorder is not None
        self.recorder.order(task, what)

    def order_finish(self, task: TaskState) -> None:
        pass

    # A recording hands out nothing recorded: nothing to wait for.
    def wait_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        pass

    async def await_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        pass

    async def hold_open(self, task: TaskState, exchange: RecordedExchange) -> None:
        pass

    def pace_sync(self, gap: float) -> None:
        pass

    async def arrive(self, at: int, *, received: bool = True) -> None:
        pass
