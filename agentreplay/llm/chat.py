"""OpenAI Chat Completions (``POST .../chat/completions``), also spoken by many other servers."""

from __future__ import annotations

from typing import Any

from agentreplay.llm.model import Output, Request, pick_params, tool
from agentreplay.llm.wire import SseEvent, as_count, as_dict, as_list, as_str, load_json

__all__ = ["read_body", "read_event", "read_request"]


def read_request(body: dict[str, Any]) -> Request | None:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    return Request(
        model=as_str(body.get("model")),
        messages=[_message(m) for m in messages if isinstance(m, dict)],
        tools=_tools(body),
        params=pick_params(body),
        stream=body.get("stream") is True,
    )


def _message(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    content = content if isinstance(content, (str, list)) else ""
    return {**message, "role": as_str(message.get("role")), "content": content}


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = []
    for entry in as_list(body.get("tools")):
        entry = as_dict(entry)
        kind = as_str(entry.get("type")) or "function"
        spec = as_dict(entry.get(kind))
        if kind == "function":
            tools.append(tool(spec.get("name"), spec.get("description"), spec.get("parameters")))
        else:
            tools.append(tool(spec.get("name") or kind, spec.get("description"), None))
    # The deprecated ``functions`` parameter, still accepted by the API.
    for spec in as_list(body.get("functions")):
        spec = as_dict(spec)
        tools.append(tool(spec.get("name"), spec.get("description"), spec.get("parameters")))
    return tools


def read_body(data: Any, out: Output) -> None:
    """A complete (non-streamed) chat completion."""
    data = as_dict(data)
    _read_usage(data, out)
    out.response_model = as_str(data.get("model")) or out.response_model
    choice = _first_choice(data)
    if choice is None:
        return
    message = as_dict(choice.get("message"))
    out.text.append(_content_text(message.get("content")))
    out.thinking.append(_reasoning(message))
    for index, call in enumerate(as_list(message.get("tool_calls"))):
        call = as_dict(call)
        function = as_dict(call.get("function"))
        out.start_call(index, call.get("id"), function.get("name"))
        out.set_arguments(index, function.get("arguments"))
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        out.start_call(0, "", legacy.get("name"))
        out.set_arguments(0, legacy.get("arguments"))
    out.finish_reason = as_str(choice.get("finish_reason")) or None


def read_event(event: SseEvent, out: Output) -> None:
    """One ``chat.completion.chunk``; ``[DONE]`` and anything not JSON are skipped."""
    data = as_dict(load_json(event.data))
    if not data:
        return
    error = data.get("error")
    if error is not None:
        out.error = as_str(as_dict(error).get("message")) or as_str(error) or out.error
    _read_usage(data, out)
    out.response_model = as_str(data.get("model")) or out.response_model
    choice = _first_choice(data)
    if choice is None:
        return
    delta = as_dict(choice.get("delta"))
    text, thinking = _content_text(delta.get("content")), _reasoning(delta)
    if text or thinking:
        out.text.append(text)
        out.thinking.append(thinking)
        out.produced(event.at)
    for position, call in enumerate(as_list(delta.get("tool_calls"))):
        call = as_dict(call)
        index = as_count(call.get("index"))
        index = position if index is None else index
        function = as_dict(call.get("function"))
        out.start_call(index, call.get("id"), function.get("name"))
        out.add_arguments(index, function.get("arguments"))
        out.produced(event.at)
    finish = as_str(choice.get("finish_reason"))
    out.finish_reason = finish or out.finish_reason


def _first_choice(data: dict[str, Any]) -> dict[str, Any] | None:
    """The choice with index 0: with ``n`` > 1 the other choices are alternatives."""
    for choice in as_list(data.get("choices")):
        choice = as_dict(choice)
        if choice and choice.get("index", 0) == 0:
            return choice
    return None


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = (as_dict(part) for part in as_list(content))
    return "".join(as_str(part.get("text")) for part in parts if part.get("type") == "text")


def _reasoning(message: dict[str, Any]) -> str:
    """Reasoning text some OpenAI-compatible servers send beside the content."""
    return as_str(message.get("reasoning_content")) or as_str(message.get("reasoning"))


def _read_usage(data: dict[str, Any], out: Output) -> None:
    usage = as_dict(data.get("usage"))
    if not usage:
        return
    out.input_tokens = as_count(usage.get("prompt_tokens"))
    out.output_tokens = as_count(usage.get("completion_tokens"))
    details = as_dict(usage.get("prompt_tokens_details"))
    out.cached_tokens = as_count(details.get("cached_tokens"))
