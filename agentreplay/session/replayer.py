"""The replaying side of a session: the recorded inputs, queued per logical task.

Each logical task gets its own queues (HTTP exchanges, each clock, entropy,
tool calls), so concurrent tasks receive their own next input whatever order
the scheduler runs them in.
"""

from __future__ import annotations

import threading
import warnings
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from agentreplay.cassette.events import (
    ClockRead,
    EntropyDraw,
    Event,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.reader import Cassette
from agentreplay.errors import CassetteWarning
from agentreplay.session.matching import RequestInfo

__all__ = ["RecordedExchange", "RecordedTool", "Replayer"]


@dataclass(slots=True)
class RecordedExchange:
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


@dataclass(slots=True)
class RecordedTool:
    call: ToolCall
    step: int
    result: ToolResult | None = None


_E = TypeVar("_E", ClockRead, EntropyDraw)


@dataclass(slots=True)
class _Read(Generic[_E]):
    event: _E
    step: int


class Replayer:
    """All of a cassette's recorded inputs, ready to be handed out in order."""

    def __init__(self, cassette: Cassette) -> None:
        self.header = cassette.header
        self.path = cassette.path
        self.http: dict[str, deque[RecordedExchange]] = {}
        self.tools: dict[str, deque[RecordedTool]] = {}
        self.clocks: dict[tuple[str, str], deque[_Read[ClockRead]]] = {}
        self.entropy: dict[str, deque[_Read[EntropyDraw]]] = {}
        self.outcome: RunOutcome | None = None
        self.outcome_step = 0
        self.steps = 0
        self.complete = True
        self._lock = threading.Lock()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CassetteWarning)
            self._load(cassette.events_with_steps(errors="warn"))
        self.warnings = [str(w.message) for w in caught]
        if caught:
            self.complete = False

    def _load(self, events: Iterable[tuple[int, Event]]) -> None:
        open_http: dict[tuple[str, int], RecordedExchange] = {}
        open_tools: dict[tuple[str, int], RecordedTool] = {}
        for step, event in events:
            self.steps = max(self.steps, step)
            task = event.task
            if isinstance(event, HttpRequest):
                exchange = RecordedExchange(event, step)
                open_http[(task, event.seq)] = exchange
                self.http.setdefault(task, deque()).append(exchange)
            elif isinstance(event, (HttpResponse, HttpChunk, HttpEnd, HttpError)):
                owner = open_http.get((task, event.request))
                if owner is None:
                    continue
                if isinstance(event, HttpResponse):
                    owner.response = event
                elif isinstance(event, HttpChunk):
                    owner.chunks.append(event)
                elif isinstance(event, HttpEnd):
                    owner.end = event
                else:
                    owner.error = event
            elif isinstance(event, ClockRead):
                self.clocks.setdefault((task, event.clock), deque()).append(_Read(event, step))
            elif isinstance(event, EntropyDraw):
                self.entropy.setdefault(task, deque()).append(_Read(event, step))
            elif isinstance(event, ToolCall):
                tool = RecordedTool(event, step)
                open_tools[(task, event.seq)] = tool
                self.tools.setdefault(task, deque()).append(tool)
            elif isinstance(event, ToolResult):
                owner_tool = open_tools.get((task, event.call))
                if owner_tool is not None:
                    owner_tool.result = event
            elif isinstance(event, RunOutcome):
                self.outcome = event
                self.outcome_step = step or self.steps

    @staticmethod
    def _pop(queue: deque[Any] | None) -> Any:
        if not queue:
            return None
        try:
            return queue.popleft()
        except IndexError:  # another thread emptied it
            return None

    def next_http(self, task: str) -> RecordedExchange | None:
        return self._pop(self.http.get(task))  # type: ignore[no-any-return]

    def next_tool(self, task: str) -> RecordedTool | None:
        return self._pop(self.tools.get(task))  # type: ignore[no-any-return]

    def next_clock(self, task: str, kind: str) -> _Read[ClockRead] | None:
        return self._pop(self.clocks.get((task, kind)))  # type: ignore[no-any-return]

    def next_entropy(self, task: str) -> _Read[EntropyDraw] | None:
        return self._pop(self.entropy.get(task))  # type: ignore[no-any-return]

    def peek_http_step(self, task: str) -> int | None:
        queue = self.http.get(task)
        return queue[0].step if queue else None

    def remaining_calls(self) -> int:
        """Recorded HTTP and tool calls that replay has not asked for."""
        return sum(len(q) for q in self.http.values()) + sum(len(q) for q in self.tools.values())
