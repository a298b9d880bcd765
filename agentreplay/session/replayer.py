"""The replaying side of a session: the recorded inputs, queued per logical task.

Each logical task gets its own queues (HTTP exchanges, each clock, entropy,
tool calls), so concurrent tasks receive their own next input whatever order
the scheduler runs them in.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agentreplay.cassette.events import (
    KINDS,
    ClockRead,
    EntropyDraw,
    Event,
    HttpRequest,
    RunOutcome,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.reader import CassetteReader
from agentreplay.errors import CassetteWarning
from agentreplay.runtime.contract import RecordedExchange

__all__ = ["RecordedExchange", "RecordedTool", "Replayer"]


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

    def __init__(self, cassette: CassetteReader) -> None:
        self.header = cassette.header
        self.path = cassette.path
        self.http: dict[str, deque[RecordedExchange]] = {}
        self.tools: dict[str, deque[RecordedTool]] = {}
        self.clocks: dict[tuple[str, str], deque[_Read[ClockRead]]] = {}
        self.entropy: dict[str, deque[_Read[EntropyDraw]]] = {}
        self.outcome: RunOutcome | None = None
        self.outcome_step = 0
        self.steps = 0
        self.events = 0
        self._open_http: dict[tuple[str, int], RecordedExchange] = {}
        self._open_tools: dict[tuple[str, int], RecordedTool] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CassetteWarning)
            self._load(cassette.events_with_steps(errors="warn"))
        self.warnings = [str(w.message) for w in caught]
        self._open_http.clear()
        self._open_tools.clear()

    def _load(self, events: Iterable[tuple[int, Event]]) -> None:
        handlers = {
            "http.request": self._request,
            "http.response": self._exchange_part,
            "http.chunk": self._exchange_part,
            "http.end": self._exchange_part,
            "http.error": self._exchange_part,
            "clock": self._clock,
            "entropy": self._entropy,
            "tool.call": self._tool_call,
            "tool.result": self._tool_result,
            "outcome": self._outcome,
        }
        for step, event in events:
            self.events += 1
            self.steps = max(self.steps, step)
            handler = handlers.get(KINDS[type(event)].replay)
            if handler is not None:  # spans substitute nothing
                handler(step, event)

    def _request(self, step: int, event: Any) -> None:
        request: HttpRequest = event
        exchange = RecordedExchange(request, step)
        self._open_http[(request.task, request.seq)] = exchange
        self.http.setdefault(request.task, deque()).append(exchange)

    def _exchange_part(self, step: int, event: Any) -> None:
        owner = self._open_http.get((event.task, event.request))
        if owner is not None:
            part = KINDS[type(event)].replay.removeprefix("http.")
            if part == "chunk":
                owner.chunks.append(event)
            else:
                setattr(owner, part, event)

    def _clock(self, step: int, event: Any) -> None:
        read: ClockRead = event
        self.clocks.setdefault((read.task, read.clock), deque()).append(_Read(read, step))

    def _entropy(self, step: int, event: Any) -> None:
        draw: EntropyDraw = event
        self.entropy.setdefault(draw.task, deque()).append(_Read(draw, step))

    def _tool_call(self, step: int, event: Any) -> None:
        call: ToolCall = event
        tool = RecordedTool(call, step)
        self._open_tools[(call.task, call.seq)] = tool
        self.tools.setdefault(call.task, deque()).append(tool)

    def _tool_result(self, step: int, event: Any) -> None:
        result: ToolResult = event
        owner = self._open_tools.get((result.task, result.call))
        if owner is not None:
            owner.result = result

    def _outcome(self, step: int, event: Any) -> None:
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

    def next_tool(self, task: str) -> RecordedTool | None:
        return self._pop(self.tools.get(task))  # type: ignore[no-any-return]

    def next_clock(self, task: str, kind: str) -> _Read[ClockRead] | None:
        return self._pop(self.clocks.get((task, kind)))  # type: ignore[no-any-return]

    def next_entropy(self, task: str) -> _Read[EntropyDraw] | None:
        return self._pop(self.entropy.get(task))  # type: ignore[no-any-return]

    def remaining_calls(self) -> int:
        """Recorded HTTP and tool calls that replay has not asked for."""
        return sum(len(q) for q in self.http.values()) + sum(len(q) for q in self.tools.values())
