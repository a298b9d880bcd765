"""The step model: what a person navigates in a recorded run.

A step is one agent-level interaction: an LLM call, a tool call (HTTP to a
non-LLM host, or an ``@agentreplay.tool`` function), or a span opened with
``agentreplay.step(name)``. Steps are numbered from 1 in the order they
start; each knows its parent step and its logical task, and the clock and
entropy reads that happened inside it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agentreplay.cassette.events import (
    Event,
    Headers,
    HttpChunk,
    HttpRequest,
    HttpResponse,
    RunOutcome,
)
from agentreplay.llm import LLMCall

__all__ = ["BODY_LIMIT", "Step", "Summary", "body_plain", "price"]

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
    status: str = "open"
    """"ok", "error", "cancelled" (cut short by the program itself: a deadline, a lost
    race; ``end_at`` is when), or "open" (the recording stopped inside it)."""
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
    http_version: str | None = None
    http_reason: str | None = None
    chunk_at: list[int] | None = None  # when each body chunk arrived (ns into the run)
    # The clock reads and entropy draws inside the step, kept by `step_from_events` only.
    inputs: list[Event] | None = None
    # What an open HTTP step keeps until it is decoded.
    _request: HttpRequest | None = field(default=None, repr=False)
    _response: HttpResponse | None = field(default=None, repr=False)
    _chunks: list[HttpChunk] | None = field(default=None, repr=False)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None if the step never ended."""
        return None if self.end_at is None else (self.end_at - self.start_at) / 1e9

    def mentions(self, text: str) -> bool:
        """Whether ``text`` (any case) is in the step's name, URL, tool name, prompt
        messages, answer, tool calls, tool arguments or value."""
        needle = text.casefold()
        return any(needle in part.casefold() for part in self._texts())

    def _texts(self) -> Iterator[str]:
        yield self.label
        yield self.name
        if self.url:
            yield self.url
        if self.error:
            yield self.error
        if self.llm is not None:
            for message in self.llm.messages:
                yield _json_text(message.get("content"))
                for call in message.get("tool_calls") or ():
                    yield _json_text(call)
            yield self.llm.output_text
            yield self.llm.thinking
            for call in self.llm.tool_calls:
                yield f"{call.name} {call.arguments}"
        if self.kind == "tool":
            yield _json_text([self.args, self.kwargs, _plain(self.value)])

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


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


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


# genai-prices' provider ids; an OpenAI-compatible server is priced by model name alone.
_PRICE_PROVIDERS = {
    "anthropic": "anthropic",
    "openai": "openai",
    "google": "google",
    "bedrock": "aws",
}


def price(call: LLMCall) -> float | None:
    """The call's cost in USD from genai-prices' table, or None for an unknown model."""
    if call.input_tokens is None and call.output_tokens is None:
        return None
    # The model that answered is the more precise name; the one asked for may be known
    # when it is not (a preview alias answered by a dated version, or the reverse).
    for model in dict.fromkeys(m for m in (call.response_model, call.model) if m):
        try:
            from genai_prices import Usage, calc_price

            usage = Usage(
                input_tokens=call.input_tokens or 0,
                output_tokens=call.output_tokens or 0,
                cache_read_tokens=call.cached_tokens or None,
            )
            provider = _PRICE_PROVIDERS.get(call.provider)
            return float(calc_price(usage, model, provider_id=provider).total_price)
        except Exception:  # unknown model, or a price table that does not load: no cost
            continue
    return None


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
