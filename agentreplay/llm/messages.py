"""Anthropic Messages (``POST .../messages``): content blocks, thinking, ``tool_use``."""

from __future__ import annotations

import json
from typing import Any

from agentreplay.llm.model import Output, Request, pick_params, tool
from agentreplay.llm.wire import SseEvent, as_count, as_dict, as_list, as_str, load_json

__all__ = ["read_body", "read_event", "read_request"]


def read_request(body: dict[str, Any]) -> Request | None:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    system = body.get("system")
    sent: list[dict[str, Any]] = []
    if isinstance(system, str | list) and system:
        sent.append({"role": "system", "content": system})
    for message in messages:
        if isinstance(message, dict):
            content = message.get("content")
            content = content if isinstance(content, str | list) else ""
            sent.append({**message, "role": as_str(message.get("role")), "content": content})
    return Request(
        model=as_str(body.get("model")),
        messages=sent,
        tools=[_tool(as_dict(entry)) for entry in as_list(body.get("tools"))],
        params=pick_params(body),
        stream=body.get("stream") is True,
    )


def _tool(entry: dict[str, Any]) -> dict[str, Any]:
    # Server tools (web search, code execution...) have a type and a name but no schema.
    name = entry.get("name") or entry.get("type")
    return tool(name, entry.get("description"), entry.get("input_schema"))


def read_body(data: Any, out: Output) -> None:
    """A complete (non-streamed) message."""
    data = as_dict(data)
    _read_message(data, out)
    for index, block in enumerate(as_list(data.get("content"))):
        block = as_dict(block)
        kind = block.get("type")
        if kind == "text":
            out.text.append(as_str(block.get("text")))
        elif kind == "thinking":
            out.thinking.append(as_str(block.get("thinking")))
        elif kind == "tool_use":
            out.start_call(index, block.get("id"), block.get("name"))
            out.set_arguments(index, _dumps(block.get("input", {})))


def read_event(event: SseEvent, out: Output) -> None:
    data = as_dict(load_json(event.data))
    kind = as_str(data.get("type")) or event.event or ""
    index = as_count(data.get("index")) or 0
    if kind == "message_start":
        _read_message(as_dict(data.get("message")), out)
    elif kind == "content_block_start":
        _block_start(as_dict(data.get("content_block")), index, event.at, out)
    elif kind == "content_block_delta":
        _block_delta(as_dict(data.get("delta")), index, event.at, out)
    elif kind == "content_block_stop":
        out.end_call(index, "{}")  # a tool called with no input streams no input_json_delta
    elif kind == "message_delta":
        delta = as_dict(data.get("delta"))
        out.finish_reason = as_str(delta.get("stop_reason")) or out.finish_reason
        _read_usage(as_dict(data.get("usage")), out)
    elif kind == "error":
        out.error = as_str(as_dict(data.get("error")).get("message")) or "error"


def _block_start(block: dict[str, Any], index: int, at: int, out: Output) -> None:
    kind = block.get("type")
    if kind == "tool_use":
        out.start_call(index, block.get("id"), block.get("name"))
        given = block.get("input")
        if isinstance(given, dict) and given:
            out.set_arguments(index, _dumps(given))
        out.produced(at)
        return
    text = as_str(block.get("text")) if kind == "text" else ""
    thinking = as_str(block.get("thinking")) if kind == "thinking" else ""
    if text or thinking:
        out.text.append(text)
        out.thinking.append(thinking)
        out.produced(at)


def _block_delta(delta: dict[str, Any], index: int, at: int, out: Output) -> None:
    kind = delta.get("type")
    if kind == "text_delta" and as_str(delta.get("text")):
        out.text.append(as_str(delta.get("text")))
    elif kind == "thinking_delta" and as_str(delta.get("thinking")):
        out.thinking.append(as_str(delta.get("thinking")))
    elif kind == "input_json_delta" and index in out.calls:
        out.add_arguments(index, delta.get("partial_json"))
    else:
        return
    out.produced(at)


def _read_message(message: dict[str, Any], out: Output) -> None:
    out.response_model = as_str(message.get("model")) or out.response_model
    out.finish_reason = as_str(message.get("stop_reason")) or out.finish_reason
    _read_usage(as_dict(message.get("usage")), out)


def _read_usage(usage: dict[str, Any], out: Output) -> None:
    """Anthropic counts cache reads and writes apart from ``input_tokens``; add them back."""
    output = as_count(usage.get("output_tokens"))
    out.output_tokens = out.output_tokens if output is None else output
    fresh = as_count(usage.get("input_tokens"))
    read = as_count(usage.get("cache_read_input_tokens"))
    read = out.cached_tokens if read is None else read
    written = as_count(usage.get("cache_creation_input_tokens"))
    if read is not None:
        out.cached_tokens = read
    if fresh is not None:
        out.input_tokens = fresh + (read or 0) + (written or 0)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return ""
