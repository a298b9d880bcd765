"""The replaying side of a session: the recorded inputs, queued per logical task.

Each logical task gets its own queues (HTTP exchanges, each clock, entropy,
tool calls, ordering points), so concurrent tasks receive their own next
input whatever order the scheduler runs them in. Every answer also gets its
position in the recorded order of all the run's answers (`position`), which
replay uses to let threads take their answers in the recorded order.
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
    OrderPoint,
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
    position: int = -1


_E = TypeVar("_E", ClockRead, EntropyDraw, OrderPoint)


@dataclass(slots=True)
class _Read(Generic[_E]):
    event: _E
    step: int
    position: int


class Replayer:
    """All of a cassette's recorded inputs, ready to be handed out in order."""

    def __init__(self, cassette: CassetteReader) -> None:
        self.header = cassette.header
        self.path = cassette.path
        self.http: dict[str, deque[RecordedExchange]] = {}
        self.tools: dict[str, deque[RecordedTool]] = {}
        self.clocks: dict[tuple[str, str], deque[_Read[ClockRead]]] = {}
        self.entropy: dict[str, deque[_Read[EntropyDraw]]] = {}
        self.order: dict[str, deque[_Read[OrderPoint]]] = {}
        self.positions: list[tuple[int, str, str]] = []
        """(step, task, what) of every answer, in the recorded order."""
        self.turns: dict[str, deque[int]] = {}
        """Each task's positions, in the recorded order (taken from the front as they go)."""
        self.points: set[int] = set()
        """The positions that are ordering points, not answers."""
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
            "order": self._order,
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

    def _position(self, step: int, task: str, what: str) -> int:
        position = len(self.positions)
        self.positions.append((step, task, what))
        self.turns.setdefault(task, deque()).append(position)
        return position

    def _exchange_part(self, step: int, event: Any) -> None:
        owner = self._open_http.get((event.task, event.request))
        if owner is not None:
            part = KINDS[type(event)].replay.removeprefix("http.")
            if part == "chunk":
                owner.chunks.append(event)
                return
            if part in ("response", "error") and owner.position < 0:
                what = f"the answer to {owner.request.method} {owner.request.url}"
                owner.position = self._position(step, event.task, what)
            setattr(owner, part, event)

    def _clock(self, step: int, event: Any) -> None:
        read: ClockRead = event
        position = self._position(step, read.task, f"a {read.clock} clock read")
        self.clocks.setdefault((read.task, read.clock), deque()).append(_Read(read, step, position))

    def _entropy(self, step: int, event: Any) -> None:
        draw: EntropyDraw = event
        position = self._position(step, draw.task, f"a draw of random bytes ({draw.source})")
        self.entropy.setdefault(draw.task, deque()).append(_Read(draw, step, position))

    def _order(self, step: int, event: Any) -> None:
        point: OrderPoint = event
        position = self._position(step, point.task, point.what)
        self.points.add(position)
        self.order.setdefault(point.task, deque()).append(_Read(point, step, position))

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
            owner.position = self._position(step, result.task, f"the result of {owner.call.name}()")

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

    def next_order(self, task: str) -> _Read[OrderPoint] | None:
        return self._pop(self.order.get(task))  # type: ignore[no-any-return]

    def remaining_calls(self) -> int:
        """Recorded HTTP and tool calls that replay has not asked for."""
        return sum(len(q) for q in self.http.values()) + sum(len(q) for q in self.tools.values())
