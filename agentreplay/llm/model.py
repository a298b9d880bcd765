"""What a decoded LLM call is, and the pieces the per-API decoders fill in.

`LLMCall` and `ToolCallInfo` are the public result. `Request` (what the body
sent) and `Output` (what came back, accumulated event by event) are the
shared working parts of `chat.py`, `responses.py` and `messages.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentreplay.llm.wire import as_dict, as_str, load_json

__all__ = [
    "PARAMS",
    "LLMCall",
    "Output",
    "Request",
    "ToolCallInfo",
    "content_text",
    "pick_params",
    "tool",
    "tool_call",
]

PARAMS = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "stop",
    "stop_sequences",
    "seed",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "text",
    "reasoning",
    "reasoning_effort",
    "verbosity",
    "thinking",
    "output_config",
    "speed",
    "service_tier",
)
"""Request fields that shape the answer, kept in `LLMCall.params` when sent."""


@dataclass(frozen=True, slots=True)
class ToolCallInfo:
    """A tool call the model made: ``arguments`` is the JSON text as sent (assembled
    from its deltas when streamed), ``parsed`` its value, or None if it is not JSON."""

    id: str
    name: str
    arguments: str
    parsed: Any


@dataclass(frozen=True, slots=True)
class LLMCall:
    """One model API call decoded from its HTTP exchange.

    Times are in seconds from the moment the request was sent. ``input_tokens``
    counts every prompt token, cached ones included, whatever the provider
    (Anthropic reports cache reads apart; they are added back here).
    """

    provider: str
    api: str
    model: str
    response_model: str | None
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    params: dict[str, Any]
    stream: bool
    output_text: str
    thinking: str
    tool_calls: list[ToolCallInfo]
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    ttft: float | None
    duration: float | None
    gaps: list[float]
    status: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Request:
    """What an API module reads from a request body."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    params: dict[str, Any]
    stream: bool


def pick_params(body: dict[str, Any]) -> dict[str, Any]:
    """The answer-shaping fields of a request body, in the order they were sent."""
    wanted = set(PARAMS)
    return {key: value for key, value in body.items() if key in wanted and value is not None}


def tool(name: Any, description: Any, parameters: Any) -> dict[str, Any]:
    """A tool offered, in the one shape every API is normalised to."""
    return {
        "name": as_str(name),
        "description": as_str(description),
        "parameters": as_dict(parameters),
    }


@dataclass(slots=True)
class _PendingCall:
    id: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list)
    whole: str | None = None  # the final arguments, when the API repeats them at the end


@dataclass(slots=True)
class Output:
    """The answer as far as it has been read; streamed deltas are appended in order."""

    text: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    calls: dict[int, _PendingCall] = field(default_factory=dict)
    finish_reason: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    first_output_at: int | None = None
    error: str | None = None

    def produced(self, at: int) -> None:
        """Note that output (text, thinking or a tool call) arrived at ``at``."""
        if self.first_output_at is None:
            self.first_output_at = at

    def call(self, index: int) -> _PendingCall:
        pending = self.calls.get(index)
        if pending is None:
            pending = self.calls[index] = _PendingCall()
        return pending

    def start_call(self, index: int, id_: Any, name: Any) -> None:
        pending = self.call(index)
        pending.id = pending.id or as_str(id_)
        pending.name = pending.name or as_str(name)

    def add_arguments(self, index: int, piece: Any) -> None:
        if isinstance(piece, str):
            self.call(index).parts.append(piece)

    def set_arguments(self, index: int, whole: Any) -> None:
        if isinstance(whole, str):
            self.call(index).whole = whole

    def end_call(self, index: int, default: str) -> None:
        """Give call ``index`` the arguments ``default`` if none of its own came."""
        pending = self.calls.get(index)
        if pending is not None and not pending.parts and pending.whole is None:
            pending.whole = default

    def tool_calls(self) -> list[ToolCallInfo]:
        calls = []
        for _, pending in sorted(self.calls.items()):
            arguments = "".join(pending.parts)
            if pending.whole is not None:
                arguments = pending.whole
            calls.append(tool_call(pending.id, pending.name, arguments))
        return calls


def tool_call(id_: str, name: str, arguments: str) -> ToolCallInfo:
    return ToolCallInfo(id_, name, arguments, load_json(arguments) if arguments else None)


def content_text(content: Any) -> str:
    """A message's content as text: its text, thinking and tool-result blocks on lines of
    their own, a tool call as ``[tool call] name(arguments)``, anything else as JSON."""
    if content is None:  # an assistant message that only calls tools
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text") or part.get("content") or part.get("thinking")
                if isinstance(text, str):
                    parts.append(text)
                elif part.get("type") in ("tool_use", "function_call"):
                    arguments = json.dumps(part.get("input", part.get("arguments")))
                    parts.append(f"[tool call] {part.get('name')}({arguments})")
                else:
                    parts.append(json.dumps(part, ensure_ascii=False))
            else:
                parts.append(str(part))
        return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False)
