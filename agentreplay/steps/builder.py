"""Building steps from a cassette's events.

`iter_steps` reads a cassette once, front to back, holding only the steps
still open (and, for an LLM call, its response body until it is decoded), so
it works on cassettes of any size. `step_from_events` builds one step and
also keeps its HTTP exchange: request and response headers and bodies.

What each event does is read from the registry of event kinds
(`agentreplay.cassette.events.KINDS`): the kinds that open a step, and the
role of the others.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from agentreplay.cassette.events import (
    KINDS,
    Event,
    HttpChunk,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    StepRole,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.tracking import StepInfo
from agentreplay.llm import decode_exchange, detect_api
from agentreplay.llm.wire import body_pieces
from agentreplay.steps.model import Step, price

__all__ = ["StepSource", "iter_steps", "step_from_events"]

_READS = frozenset({"clock", "entropy"})


class _Builder:
    """Consumes (step, event) pairs in cassette order and emits finished steps."""

    def __init__(self, infos: dict[int, Any] | None = None, *, keep_exchange: bool = False) -> None:
        self.keep_exchange = keep_exchange
        self.open: dict[int, Step] = {}
        self.done: list[tuple[int, Step]] = []
        self.outcome: RunOutcome | None = None
        self.last_at = 0
        self._infos = infos or {}

    def _start(self, number: int, event: Event, kind: str, name: str) -> Step:
        info = self._infos.get(number)
        parent = info.parent if info is not None else 0
        step = Step(number, kind, name, event.task, parent, event.at)
        self.open[number] = step
        return step

    def _finish(self, step: Step, at: int) -> None:
        step.end_at = at
        if step.status == "open":
            step.status = "ok"
        if step._request is not None:
            self._decode(step)
        heapq.heappush(self.done, (step.number, step))
        self.open.pop(step.number, None)

    def _decode(self, step: Step) -> None:
        request = step._request
        assert request is not None
        if self.keep_exchange:
            self._keep_exchange(step, request)
        if step._chunks is not None:
            call = decode_exchange(request, step._response, step._chunks, step.end_at)
            if call is not None:
                step.llm = call
                step.kind = "llm"
                step.cost = price(call)
                if call.error and step.status == "ok":
                    step.status, step.error = "error", call.error
        step._request = step._response = None
        step._chunks = None

    @staticmethod
    def _keep_exchange(step: Step, request: HttpRequest) -> None:
        step.request_headers, step.request_body = request.headers, request.body
        response, chunks = step._response, step._chunks or []
        if response is None:
            return
        pieces = body_pieces(response.headers, chunks)
        raw = (data for _, data in pieces) if pieces is not None else (c.data for c in chunks)
        step.response_headers, step.response_body = response.headers, b"".join(raw)
        step.http_version, step.http_reason = response.http_version, response.reason
        step.chunk_at = [chunk.at for chunk in chunks]

    def feed(self, number: int, event: Event) -> None:
        self.last_at = max(self.last_at, event.at)
        kind = KINDS[type(event)]
        if kind.step_role is StepRole.OPENS:
            started = self._start(number, event, kind.opens, event.step_name())
            if isinstance(event, HttpRequest):
                started.method, started.url = event.method, event.url
                started._request = event
                if self.keep_exchange or detect_api(event.method, event.url) is not None:
                    started._chunks = []
            elif isinstance(event, ToolCall):
                started.args, started.kwargs = event.args, event.kwargs
            return
        if isinstance(event, RunOutcome):
            self.outcome = event
        step = self.open.get(number)
        if step is None:
            return
        if kind.step_role is StepRole.CLOSES:
            error = getattr(event, "error", None)
            if error is not None and error.cancellation:
                # Cut short by the program itself (a deadline, a lost race): not a failure.
                step.status, step.error = "cancelled", "cancelled"
            elif error is not None:
                step.status, step.error = "error", str(error)
            if isinstance(event, ToolResult):
                step.value = event.value
            self._finish(step, event.at)
        elif isinstance(event, HttpResponse):
            step._response = event
            step.http_status = event.status
            if event.status >= 400:
                step.status, step.error = "error", f"HTTP {event.status} {event.reason}"
        elif isinstance(event, HttpChunk):
            step.body_bytes += len(event.data)
            if step._chunks is not None:
                step._chunks.append(event)
        elif kind.replay in _READS:
            step.reads += 1
            if self.keep_exchange:
                if step.inputs is None:
                    step.inputs = []
                step.inputs.append(event)

    def ready(self) -> Iterator[Step]:
        """Finished steps whose predecessors are all finished, in number order."""
        while self.done and (not self.open or self.done[0][0] < min(self.open)):
            yield heapq.heappop(self.done)[1]

    def flush(self) -> Iterator[Step]:
        for step in list(self.open.values()):
            if step._request is not None:
                self._decode(step)
            heapq.heappush(self.done, (step.number, step))
        self.open.clear()
        while self.done:
            yield heapq.heappop(self.done)[1]


class StepSource(Protocol):
    """What building steps needs of a cassette (`agentreplay.Cassette` is one)."""

    def step_infos(self) -> list[StepInfo]: ...

    def events_with_steps(self, *, errors: Any = ...) -> Iterator[tuple[int, Event]]: ...


def iter_steps(
    cassette: StepSource, *, errors: str = "warn", keep_exchange: bool = False
) -> Iterator[Step]:
    """Every step of the cassette in number order, built in one streaming pass.

    With ``keep_exchange``, every HTTP step keeps its exchange as `step_from_events`
    does (bodies are held only until the step is handed out)."""
    builder = _Builder(
        {info.number: info for info in cassette.step_infos()}, keep_exchange=keep_exchange
    )
    for number, event in cassette.events_with_steps(errors=errors):
        builder.feed(number, event)
        yield from builder.ready()
    yield from builder.flush()


def step_from_events(number: int, events: Iterable[Event], parent: int = 0) -> Step | None:
    """One step from its own events (as `Cassette.step(n)` returns them), with its HTTP
    exchange (request and response headers and bodies, chunk times) and its clock and
    entropy reads."""
    builder = _Builder({number: _Parent(parent)}, keep_exchange=True)
    for event in events:
        builder.feed(number, event)
    steps = list(builder.flush())
    return steps[0] if steps else None


@dataclass
class _Parent:
    parent: int
