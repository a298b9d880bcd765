"""The recording side of a session: turns what interceptors saw into events."""

from __future__ import annotations

import re
from typing import Any

from agentreplay.cassette.events import (
    ClockRead,
    EntropyDraw,
    ErrorInfo,
    Event,
    Headers,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    OrderPoint,
    RunOutcome,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.memory import EventSink
from agentreplay.runtime import escape
from agentreplay.runtime.contract import RequestInfo
from agentreplay.runtime.tasks import TaskState
from agentreplay.session.redaction import Redactor

__all__ = ["ExchangeRecorder", "Recorder", "ToolRecording"]

_perf_counter_ns = escape.perf_counter_ns

# A server-sent stream's terminal event, then the blank line that dispatches it.
_SSE_DONE = re.compile(rb"(?:\A|[\r\n])data: ?\[DONE\](?:\r\n|\r|\n){2}\Z")
_TAIL = 32


class Recorder:
    """Writes a run's events to a cassette (or memory) as they happen."""

    def __init__(self, writer: EventSink, redactor: Redactor) -> None:
        self.writer = writer
        self.redactor = redactor
        self._start = _perf_counter_ns()

    def now(self) -> int:
        return _perf_counter_ns() - self._start

    def emit(self, event: Event) -> None:
        self.writer.append(event)

    def clock(self, task: TaskState, kind: str, value: int | float) -> None:
        self.writer.append(ClockRead(task.id, task.next_seq(), self.now(), kind, value))

    def entropy(self, task: TaskState, source: str, data: bytes) -> None:
        self.writer.append(EntropyDraw(task.id, task.next_seq(), self.now(), source, data))

    def http(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder:
        redacted = self.redactor.request(info)
        seq = task.next_seq()
        self.writer.append(
            HttpRequest(
                task.id,
                seq,
                self.now(),
                redacted.method,
                redacted.url,
                redacted.headers,
                redacted.body,
                redacted.client,
            )
        )
        return ExchangeRecorder(self, task, seq)

    def order(self, task: TaskState, what: str) -> None:
        self.writer.append(OrderPoint(task.id, task.next_seq(), self.now(), what))

    def tool_call(self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]) -> int:
        seq = task.next_seq()
        args, kwargs = self.redactor.tool_args(args, kwargs)
        self.writer.append(ToolCall(task.id, seq, self.now(), name, args, kwargs))
        return seq

    def tool_result(self, task: TaskState, call: int, value: Any, error: ErrorInfo | None) -> None:
        redactor = self.redactor
        value, error = redactor.tool_value(value), redactor.error(error)
        self.writer.append(ToolResult(task.id, task.next_seq(), self.now(), call, value, error))

    def step_start(self, task: TaskState, name: str) -> int:
        seq = task.next_seq()
        self.writer.append(StepStart(task.id, seq, self.now(), self.redactor.text(name)))
        return seq

    def step_end(self, task: TaskState, start: int, error: ErrorInfo | None) -> None:
        error = self.redactor.error(error)
        self.writer.append(StepEnd(task.id, task.next_seq(), self.now(), start, error))

    def outcome(self, event: RunOutcome) -> None:
        """The run's outcome, its value, repr and error without secrets."""
        redactor = self.redactor
        if redactor.active:
            event = RunOutcome(
                event.task,
                event.seq,
                event.at,
                redactor.value(event.value),
                redactor.text(event.value_repr),
                redactor.error(event.error),
            )
        self.writer.append(event)


class _BodySeen:
    """What a recorder saw of a body: enough to tell, when the caller closes it before
    the transport reported its end, whether every byte had already been read.

    Each chunk only adds to a count and keeps a reference to the last bytes; the
    headers are read only if the caller closes the body early."""

    __slots__ = ("headers", "last", "tail", "total")

    def __init__(self, headers: Headers) -> None:
        self.headers = headers
        self.tail = b""  # the end of the body before `last`, when `last` is short
        self.last = b""
        self.total = 0

    def saw(self, data: bytes) -> None:
        self.total += len(data)
        if len(data) < _TAIL:
            self.tail = (self.tail + self.last[-_TAIL:])[-_TAIL:]
        else:
            self.tail = b""
        self.last = data

    def read_to_end(self) -> bool:
        """True once the declared length is read, or a server-sent stream's terminal
        ``data: [DONE]`` event (after which an API's stream has nothing more to send)."""
        fields = {name.lower(): value.strip().lower() for name, value in self.headers}
        identity = fields.get("content-encoding", "identity") == "identity"
        declared = fields.get("content-length", "")
        if identity and "transfer-encoding" not in fields and declared.isdigit():
            return self.total >= int(declared)
        if not fields.get("content-type", "").startswith("text/event-stream"):
            return False
        return _SSE_DONE.search((self.tail + self.last[-_TAIL:])[-_TAIL:]) is not None


class ExchangeRecorder:
    """Records one HTTP exchange: response head, each body chunk, the end or an error."""

    __slots__ = ("_body", "_done", "_recorder", "_task", "request_seq")

    def __init__(self, recorder: Recorder, task: TaskState, request_seq: int) -> None:
        self._recorder = recorder
        self._task = task
        self.request_seq = request_seq
        self._done = False
        self._body: _BodySeen | None = None

    def response(self, status: int, headers: Headers, http_version: str, reason: str) -> None:
        rec, task = self._recorder, self._task
        self._body = _BodySeen(headers)
        headers = rec.redactor.response_headers(headers)
        rec.emit(
            HttpResponse(
                task.id,
                task.next_seq(),
                rec.now(),
                self.request_seq,
                status,
                headers,
                http_version,
                reason,
            )
        )

    def chunk(self, data: bytes) -> None:
        # Runs once per streamed chunk: the recorder's parts are read inline.
        if data:
            rec, task = self._recorder, self._task
            data = bytes(data)  # the client may reuse its buffer; bytes are kept as they are
            if self._body is not None:
                self._body.saw(data)
            data = rec.redactor.data(data)
            at = _perf_counter_ns() - rec._start
            rec.writer.append_chunk(task.id, task.next_seq(), at, self.request_seq, data)

    def end(self, complete: bool) -> None:
        if not self._done:
            self._done = True
            rec, task = self._recorder, self._task
            rec.emit(HttpEnd(task.id, task.next_seq(), rec.now(), self.request_seq, complete))

    def closed(self) -> None:
        """The caller closed the body before the transport reported its end: complete
        all the same if every byte of it had been read."""
        if not self._done:  # the usual case: the end came first, and a close follows
            self.end(self._body is not None and self._body.read_to_end())

    def error(self, exc: BaseException, info: ErrorInfo | None = None) -> None:
        if not self._done:
            self._done = True
            rec, task = self._recorder, self._task
            rec.emit(
                HttpError(
                    task.id,
                    task.next_seq(),
                    rec.now(),
                    self.request_seq,
                    rec.redactor.error(info or ErrorInfo.from_exception(exc)),
                )
            )


class ToolRecording:
    """A tool call whose body runs; its result is written when it returns."""

    def __init__(self, recorder: Recorder, task: TaskState, seq: int) -> None:
        self._recorder = recorder
        self._task = task
        self._seq = seq

    def returned(self, value: Any) -> None:
        self._recorder.tool_result(self._task, self._seq, value, None)

    def raised(self, exc: BaseException) -> None:
        self._recorder.tool_result(self._task, self._seq, None, ErrorInfo.from_exception(exc))
