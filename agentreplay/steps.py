"""Steps: what a person navigates in a recorded run.

A step is one agent-level interaction: an LLM call, a tool call (HTTP to a
non-LLM host, or an ``@agentreplay.tool`` function), or a span opened with
``agentreplay.step(name)``. Steps are numbered from 1 in the order they
start; each knows its parent step and its logical task, and the clock and
entropy reads that happened inside it.

`iter_steps` reads a cassette once, front to back, holding only the steps
still open (and, for an LLM call, its response body until it is decoded), so
it works on cassettes of any size. `step_from_events` builds one step and
also keeps its HTTP exchange: request and response headers and bodies.
"""

from __future__ import annotations

import base64
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentreplay.cassette.events import (
    ClockRead,
    EntropyDraw,
    Event,
    Headers,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.tracking import StepInfo
from agentreplay.llm import LLMCall, decode_exchange, detect_api
from agentreplay.llm.wire import body_pieces

__all__ = [
    "BODY_LIMIT",
    "Step",
    "Summary",
    "body_plain",
    "iter_steps",
    "step_from_events",
]

BODY_LIMIT = 64 * 1024
"""Bytes of each HTTP body that `Step.to_plain` includes at most."""


@dataclass
class Step:
    """One step of a run, with what is known of it once it ended."""

    number: int
    kind: str  # "llm" | "http" | "tool" | "span"
    name: str
    task: str
    parent: int
    start_at: int
    end_at: int | None = None
    status: str = "open"  # "ok" | "error" | "open" (the recording stopped inside it)
    error: str | None = None
    method: str | None = None
    url: str | None = None
    http_status: int | None = None
    body_bytes: int = 0
    llm: LLMCall | None = None
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    reads: int = 0  # clock and entropy reads inside the step
    cost: float | None = None
    # The HTTP exchange, kept by `step_from_events` only (None from `iter_steps`). The
    # response body is the one the agent read: its content encoding undone if possible.
    request_headers: Headers | None = None
    request_body: bytes | None = None
    response_headers: Headers | None = None
    response_body: bytes | None = None
    # What an open HTTP step keeps until it is decoded.
    _request: HttpRequest | None = field(default=None, repr=False)
    _response: HttpResponse | None = field(default=None, repr=False)
    _chunks: list[HttpChunk] | None = field(default=None, repr=False)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None if the step never ended."""
        return None if self.end_at is None else (self.end_at - self.start_at) / 1e9

    @property
    def label(self) -> str:
        """Model for an LLM call, URL for HTTP, name for tools and spans."""
        if self.llm is not None:
            return self.llm.model or self.name
        return self.name

    def to_plain(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "kind": self.kind,
            "name": self.label,
            "task": self.task,
            "parent": self.parent,
            "start": self.start_at / 1e9,
            "duration": self.duration,
            "status": self.status,
            "error": self.error,
            "reads": self.reads,
        }
        if self.kind in ("http", "llm"):
            data.update(method=self.method, url=self.url, http_status=self.http_status)
        if self.llm is not None:
            llm = self.llm
            data["llm"] = {
                "provider": llm.provider,
                "api": llm.api,
                "model": llm.model,
                "response_model": llm.response_model,
                "messages": llm.messages,
                "tools": llm.tools,
                "params": llm.params,
                "stream": llm.stream,
                "output_text": llm.output_text,
                "thinking": llm.thinking,
                "tool_calls": [
                    {"id": c.id, "name": c.name, "arguments": c.arguments} for c in llm.tool_calls
                ],
                "finish_reason": llm.finish_reason,
                "input_tokens": llm.input_tokens,
                "output_tokens": llm.output_tokens,
                "cached_tokens": llm.cached_tokens,
                "ttft": llm.ttft,
                "gaps": llm.gaps,
                "cost": self.cost,
            }
        if self.kind == "http" and self.request_headers is not None:
            data["request"] = _exchange_plain(self.request_headers, self.request_body)
            data["response"] = (
                None
                if self.response_headers is None
                else _exchange_plain(self.response_headers, self.response_body)
            )
        if self.kind == "tool":
            data.update(args=self.args, kwargs=self.kwargs, value=_plain(self.value))
        return data


def _exchange_plain(headers: Headers, body: bytes | None) -> dict[str, Any]:
    return {"headers": [list(pair) for pair in headers], "body": body_plain(body or b"")}


def body_plain(data: bytes, limit: int = BODY_LIMIT) -> dict[str, Any]:
    """An HTTP body as JSON can hold it: its first ``limit`` bytes as text if they are
    UTF-8, else in base64, with its full size and a note when it was cut."""
    shown = data[:limit]
    cut = len(data) > len(shown)
    plain: dict[str, Any] = {"size": len(data)}
    text = _utf8(shown, cut)
    if text is None:
        plain.update(encoding="base64", data=base64.b64encode(shown).decode("ascii"))
    else:
        plain.update(encoding="utf-8", data=text)
    if cut:
        plain["note"] = f"cut to the first {limit:,} of {len(data):,} bytes"
    return plain


def _utf8(data: bytes, cut: bool) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Cutting the body may have split its last character in two: drop that half.
        if cut and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8")
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def price(call: LLMCall) -> float | None:
    """The call's cost in USD from genai-prices' table, or None for an unknown model."""
    if call.input_tokens is None and call.output_tokens is None:
        return None
    try:
        from genai_prices import Usage, calc_price

        usage = Usage(
            input_tokens=call.input_tokens or 0,
            output_tokens=call.output_tokens or 0,
            cache_read_tokens=call.cached_tokens or None,
        )
        provider = {"anthropic": "anthropic", "openai": "openai"}.get(call.provider)
        result = calc_price(usage, call.response_model or call.model, provider_id=provider)
        return float(result.total_price)
    except Exception:  # unknown model, or a price table that does not load: no cost
        return None


class _Builder:
    """Consumes (step, event) pairs in cassette order and emits finished steps."""

    def __init__(self, infos: dict[int, Any] | None = None, *, keep_exchange: bool = False) -> None:
        self.keep_exchange = keep_exchange
        self.open: dict[int, Step] = {}
        self.done: list[tuple[int, Step]] = []
        self.next_number = 1
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

    def feed(self, number: int, event: Event) -> None:
        self.last_at = max(self.last_at, event.at)
        if isinstance(event, HttpRequest):
            started = self._start(number, event, "http", f"{event.method} {event.url}")
            started.method, started.url = event.method, event.url
            started._request = event
            if self.keep_exchange or detect_api(event.method, event.url) is not None:
                started._chunks = []
            return
        if isinstance(event, ToolCall):
            started = self._start(number, event, "tool", event.name)
            started.args, started.kwargs = event.args, event.kwargs
            return
        if isinstance(event, StepStart):
            self._start(number, event, "span", event.name)
            return
        if isinstance(event, RunOutcome):
            self.outcome = event
        step = self.open.get(number)
        if step is None:
            return
        if isinstance(event, HttpResponse):
            step._response = event
            step.http_status = event.status
            if event.status >= 400:
                step.status, step.error = "error", f"HTTP {event.status} {event.reason}"
        elif isinstance(event, HttpChunk):
            step.body_bytes += len(event.data)
            if step._chunks is not None:
                step._chunks.append(event)
        elif isinstance(event, (HttpEnd, ToolResult, StepEnd, HttpError)):
            error = getattr(event, "error", None)
            if error is not None:
                step.status, step.error = "error", str(error)
            if isinstance(event, ToolResult):
                step.value = event.value
            self._finish(step, event.at)
        elif isinstance(event, (ClockRead, EntropyDraw)):
            step.reads += 1

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


def iter_steps(cassette: StepSource, *, errors: str = "warn") -> Iterator[Step]:
    """Every step of the cassette in number order, built in one streaming pass."""
    builder = _Builder({info.number: info for info in cassette.step_infos()})
    for number, event in cassette.events_with_steps(errors=errors):
        builder.feed(number, event)
        yield from builder.ready()
    yield from builder.flush()


def step_from_events(number: int, events: Iterable[Event], parent: int = 0) -> Step | None:
    """One step from its own events (as `Cassette.step(n)` returns them), with its HTTP
    exchange: request and response headers and bodies."""
    builder = _Builder({number: _Parent(parent)}, keep_exchange=True)
    for event in events:
        builder.feed(number, event)
    steps = list(builder.flush())
    return steps[0] if steps else None


@dataclass
class _Parent:
    parent: int


@dataclass
class Summary:
    """Totals over a run's steps."""

    steps: int = 0
    llm_calls: int = 0
    counted_calls: int = 0  # LLM calls that reported token counts (a stream may not)
    tool_calls: int = 0
    http_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float | None = None
    errors: int = 0
    wall: float = 0.0  # seconds from the run's start to the last thing that happened in it

    def add(self, step: Step) -> None:
        self.steps += 1
        self.wall = max(self.wall, (step.end_at or step.start_at) / 1e9)
        if step.status == "error":
            self.errors += 1
        if step.kind == "llm" and step.llm is not None:
            self.llm_calls += 1
            if step.llm.input_tokens is not None or step.llm.output_tokens is not None:
                self.counted_calls += 1
            self.input_tokens += step.llm.input_tokens or 0
            self.output_tokens += step.llm.output_tokens or 0
            self.cached_tokens += step.llm.cached_tokens or 0
            if step.cost is not None:
                self.cost = (self.cost or 0.0) + step.cost
        elif step.kind == "tool":
            self.tool_calls += 1
        elif step.kind == "http":
            self.http_calls += 1

    def ended(self, outcome: RunOutcome | None) -> None:
        """Count the run's outcome, which may come after its last step, in its wall time."""
        if outcome is not None:
            self.wall = max(self.wall, outcome.at / 1e9)
