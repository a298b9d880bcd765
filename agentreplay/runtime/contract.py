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

    def info(self) -> RequestInfo:
        r = self.request
        return RequestInfo(r.method, r.url, r.headers, r.body, r.client)

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

    def pace_sync(self, gap: float) -> None:
        """Sleep virtually before handing out a replayed chunk recorded ``gap`` s after the
        last one (no wait at all when instant)."""
        ...

    async def pace_async(self, gap: float) -> None: ...

    def diverge(self, error: DivergenceError) -> DivergenceError:
        """Report a divergence a hook found; returns it, for the hook to raise."""
        ...
