"""`record(path)`: let every input through and write it to a cassette."""

from __future__ import annotations

import os
import platform
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agentreplay._version import __version__
from agentreplay.cassette.writer import CassetteWriter
from agentreplay.session.core import Mode, Session
from agentreplay.session.matching import RequestInfo
from agentreplay.session.recorder import ExchangeRecorder, Recorder, ToolRecording
from agentreplay.session.redaction import Redaction
from agentreplay.session.tasks import TaskState

__all__ = ["Recording", "base_header"]

_urandom = os.urandom  # bound before any hook is installed
_time_ns = time.time_ns


def base_header(
    mode: str, redaction: Redaction, metadata: dict[str, Any] | None, extra: dict[str, Any] | None
) -> dict[str, Any]:
    now_ns = _time_ns()
    header: dict[str, Any] = {
        "agentreplay": __version__,
        "mode": mode,
        "run_id": uuid.UUID(bytes=_urandom(16), version=4).hex,
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
    return header


class Recording(Session):
    """A run being recorded. Use `agentreplay.record(path)` to make one."""

    mode = Mode.RECORD
    virtual_time = False
    pace = 1.0

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        redact: Redaction | None = None,
        metadata: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(path)
        self.redaction = redact if redact is not None else Redaction()
        self.metadata = metadata
        self.extra_header = header
        self.recorder: Recorder | None = None

    def __repr__(self) -> str:
        return f"<Recording {str(self.path)!r}{' running' if self.running else ''}>"

    def _open(self) -> None:
        header = base_header("record", self.redaction, self.metadata, self.extra_header)
        self.header = header
        self.recorder = Recorder(CassetteWriter(self.path, header), self.redaction)

    def _started(self) -> None:
        self._seed_global_random()

    def _finish(self, exc: BaseException | None, value: Any, returned: bool) -> None:
        assert self.recorder is not None
        self.recorder.emit(self.outcome_event(exc, value, returned, self.recorder.now()))

    def _close(self) -> None:
        self._restore_global_random()
        if self.recorder is not None:
            self.recorder.writer.close()

    # -- for interceptors ------------------------------------------------
    def http_replay(self, task: TaskState, info: RequestInfo) -> None:
        return None

    def http_record(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder | None:
        assert self.recorder is not None
        return self.recorder.http(task, info)

    def clock(self, task: TaskState, kind: str, live: Callable[[], Any]) -> Any:
        value = live()
        self.recorder.clock(task, kind, value)  # type: ignore[union-attr]
        return value

    def entropy(
        self, task: TaskState, source: str, size: int, live: Callable[[int], bytes]
    ) -> bytes:
        data = live(size)
        self.recorder.entropy(task, source, data)  # type: ignore[union-attr]
        return data

    def tool_begin(
        self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> ToolRecording:
        assert self.recorder is not None
        return ToolRecording(self.recorder, task, self.recorder.tool_call(task, name, args, kwargs))
