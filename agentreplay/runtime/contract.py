"""The contract between the hooks and the session: what a session offers them.

Hooks describe what they saw and ask the active session for the value to
hand back; they never decide anything and never reach into a concrete
session. Everything they may ask is `ActiveSession`, and everything that
crosses the seam is defined here: the description of a request
(`RequestInfo`), a recorded exchange to hand back (`RecordedExchange`), and
the small objects a session gives back to note what happens next
(`ExchangeRecorder`, `ToolRecorder`) or to answer a tool call (`ToolAnswer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentreplay.cassette.events import (
    ErrorInfo,
    Event,
    Headers,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    fast_dataclass,
)
from agentreplay.errors import DivergenceError
from agentreplay.runtime.tasks import TaskState

__all__ = [
    "ActiveSession",
    "ExchangeRecorder",
    "RecordedExchange",
    "RequestInfo",
    "ToolAnswer",
    "ToolRecorder",
]


@fast_dataclass
class RequestInfo:
    """An HTTP request as every client hook describes it."""

    method: str
    url: str
    headers: Headers
    body: bytes
    client: str

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None

    def short(self) -> str:
        return f"{self.method} {self.url}"


@dataclass(slots=True)
class RecordedExchange:
    """A recorded HTTP exchange, as replay hands it back: the request that opened it,
    the step it belongs to, the response head, the body chunks, and how it ended."""

    request: HttpRequest
    step: int
    response: HttpResponse | None = None
    chunks: list[HttpChunk] = field(default_factory=list)
    end: HttpEnd | None = None
    error: HttpError | None = None
    position: int = -1
    """Where its answer (the head, or the error) stands in the recorded order of the
    run's answers (-1 for none): threads take their answers in that order."""

    @property
    def cancelled(self) -> bool:
        """The recorded program cut this exchange short itself (a deadline, a cancel)."""
        return self.error is not None and self.error.error.cancellation

    def ended_at(self) -> int:
        """When the body ended, or failed (ns into the run); the last chunk if neither."""
        last = self.end or self.error or (self.chunks[-1] if self.chunks else self.response)
        return last.at if last is not None else self.request.at

    def latency(self) -> float:
        """Seconds from the request to its answer (the head, or else the error)."""
        answer = self.response or self.error
        return 0.0 if answer is None else max(0, answer.at - self.request.at) / 1e9

    def info(self) -> RequestInfo:
        r = self.request
        return RequestInfo(r.method, r.url, r.headers, r.body, r.client)

    def events(self) -> list[Event]:
        """The exchange's events, in the order they were recorded."""
        ends = (self.end, self.error)
        return [self.request, *filter(None, (self.response,)), *self.chunks, *filter(None, ends)]

    def gaps(self) -> list[float]:
        """Seconds to wait before each chunk, measured from the previous one (or the head)."""
        previous = self.response.at if self.response is not None else self.request.at
        out = []
        for chunk in self.chunks:
            out.append(max(0, chunk.at - previous) / 1e9)
            previous = chunk.at
        return out


class ExchangeRecorder(Protocol):
    """Notes one live HTTP exchange as it happens: head, each chunk, the end or an error."""

    def response(self, status: int, headers: Headers, http_version: str, reason: str) -> None: ...

    def chunk(self, data: bytes) -> None: ...

    def end(self, complete: bool) -> None: ...

    def closed(self) -> None:
        """The caller closed the body before its end was read (or so it seemed)."""

    def error(self, exc: BaseException, info: ErrorInfo | None = None) -> None: ...


class ToolRecorder(Protocol):
    """A tool call whose body runs: what it returned or raised is noted when it ends."""

    def returned(self, value: Any) -> None: ...

    def raised(self, exc: BaseException) -> None: ...


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """A tool call answered from the recording: its body does not run. Exactly one of
    ``value`` (the recorded return value) and ``error`` (the recorded exception) counts."""

    value: Any
    error: ErrorInfo | None


class ActiveSession(Protocol):
    """What a running session offers the hooks; `agentreplay.Recording` and
    `agentreplay.Replay` are the two kinds.

    Every method taking a ``task`` is called with `run_task()`'s answer, on the
    thread or asyncio task that made the call.
    """

    running: bool
    """Started and not yet stopped (code it started may run on after it ends)."""
    virtual_time: bool
    """Sleeps, timeouts and the run's event loop clocks move in virtual time."""
    pace: float
    """How fast virtual time runs against the wall clock (``inf``: no waiting at all)."""

    @property
    def offline(self) -> bool:
        """A live network connection is refused (a replay that has not gone live)."""
        ...

    def run_task(self) -> TaskState | None:
        """The current logical task, if it belongs to this run and is not inside a tool."""
        ...

    def http_replay(self, task: TaskState, info: RequestInfo) -> RecordedExchange | None:
        """Answer an exchange: the recorded one to hand back, or None to go to the network."""
        ...

    def http_record(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder | None:
        """Record an exchange: where to note the live one, or None to leave it unrecorded."""
        ...

    def unrecorded_connection(self, address: str) -> bool:
        """The run connected to ``address`` (``host:port``) by a way no hook records; the
        cassette's index names it. True the first time this run reaches ``address``."""
        ...

    def clock(self, task: TaskState, kind: str, live: Callable[[], Any]) -> Any:
        """Read the clock ``kind`` ("wall", "monotonic", ...); ``live`` reads it for real."""
        ...

    def entropy(
        self, task: TaskState, source: str, size: int, live: Callable[[int], bytes]
    ) -> bytes:
        """Draw ``size`` random bytes for ``source``; ``live`` draws them for real."""
        ...

    def tool_begin(
        self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> ToolRecorder | ToolAnswer:
        """A tool is called: run its body (and note the result), or take this answer."""
        ...

    def span_start(self, task: TaskState, name: str) -> int | None:
        """A named step opens; returns what `span_end` needs, or None if not recorded."""
        ...

    def span_end(self, task: TaskState, start: int, error: ErrorInfo | None) -> None: ...

    def wait_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        """Before a thread gets a replayed exchange's head (or its error): wait for the
        thread's turn in the recorded order."""
        ...

    async def await_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        """Before an event loop gets a replayed exchange's head (or its error): wait until
        the instant it was recorded at, in the loop's virtual time, and for the pending
        answers recorded before it. An exchange the recorded program cancelled is held
        open here until the program cancels it again."""
        ...

    async def hold_open(self, task: TaskState, exchange: RecordedExchange) -> None:
        """After the last chunk of a body the recorded program cancelled: wait for the
        same cancellation (raises a divergence if it never comes)."""
        ...

    def order_wait(self, task: TaskState, what: str) -> int | None:
        """Before an ordering point (``job.end``, ``queue.get``, ``queue.put``): wait for
        this thread's recorded turn. Returns the point's position to pass to
        `order_mark`, or None when there is nothing to wait for (recording, for one)."""
        ...

    def order_mark(self, task: TaskState, what: str, position: int | None) -> None:
        """Where the ordering point takes effect: recording notes it here; replay lets
        the next thread in the recorded order go on."""
        ...

    def order_finish(self, task: TaskState) -> None:
        """A thread or job of the run ended: the ordering points it never reached are
        not waited for, and a turn behind an answer it never asked for diverges."""
        ...

    def pace_sync(self, gap: float) -> None:
        """Sleep virtually before handing out a replayed chunk recorded ``gap`` s after the
        last one (no wait at all when instant)."""
        ...

    async def arrive(self, at: int, *, received: bool = True) -> None:
        """Before an event loop gets a replayed chunk: wait until the instant it was
        recorded at (``at``, ns into the run), in the loop's virtual time.
        ``received``: the recorded program got what came then (not so for the instant
        it cut the body short itself), so a cancellation on the way waits until after
        it, as it did on the loop that recorded it."""
        ...

    def diverge(self, error: DivergenceError) -> DivergenceError:
        """Report a divergence a hook found; returns it, for the hook to raise."""
        ...
