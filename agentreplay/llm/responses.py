"""OpenAI Responses (``POST .../responses``): ``instructions`` + ``input`` in, output items out."""

from __future__ import annotations

from typing import Any

from agentreplay.llm.model import Output, Request, pick_params, tool
from agentreplay.llm.wire import SseEvent, as_count, as_dict, as_list, as_str, load_json

__all__ = ["read_body", "read_event", "read_request"]

_FINAL = ("response.completed", "response.incomplete", "response.failed")
_REASONING = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")


def read_request(body: dict[str, Any]) -> Request | None:
    if not isinstance(body.get("model"), str) and "input" not in body:
        return None  # some other JSON API that happens to have a /responses path
    instructions = body.get("instructions")
    messages: list[dict[str, Any]] = []
    if isinstance(instructions, str | list) and instructions:
        messages.append({"role": "system", "content": instructions})
    given = body.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    else:
        messages += _messages(as_list(given))
    return Request(
        model=as_str(body.get("model")),
        messages=messages,
        tools=[_tool(as_dict(entry)) for entry in as_list(body.get("tools"))],
        params=pick_params(body),
        stream=body.get("stream") is True,
    )


def _messages(items: list[Any]) -> list[dict[str, Any]]:
    """Input items as chat-style messages; consecutive function calls share one message."""
    messages: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] | None = None  # where the next consecutive call goes
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type") or "message"
        if kind != "function_call":
            calls = None
            messages.append(_message(item, kind))
            continue
        if calls is None:
            calls = []
            messages.append({"role": "assistant", "content": "", "tool_calls": calls})
        function = {"name": as_str(item.get("name")), "arguments": item.get("arguments")}
        calls.append({"id": as_str(item.get("call_id")), "type": "function", "function": function})
    return messages


def _message(item: dict[str, Any], kind: Any) -> dict[str, Any]:
    if kind == "message":
        content = item.get("content")
        content = content if isinstance(content, str | list) else ""
        return {**item, "role": as_str(item.get("role")), "content": content}
    if kind == "function_call_output":
        output = item.get("output")
        content = output if isinstance(output, str | list) else ""
        return {"role": "tool", "tool_call_id": as_str(item.get("call_id")), "content": content}
    return {"role": as_str(kind) or "item", "content": "", "item": item}


def _tool(entry: dict[str, Any]) -> dict[str, Any]:
    kind = as_str(entry.get("type")) or "function"
    if kind == "function":
        return tool(entry.get("name"), entry.get("description"), entry.get("parameters"))
    return tool(entry.get("name") or kind, entry.get("description"), None)


def read_body(data: Any, out: Output) -> None:
    """A complete (non-streamed) response object."""
    _read_response(as_dict(data), out, final=True)


def read_event(event: SseEvent, out: Output) -> None:
    data = as_dict(load_json(event.data))
    kind = as_str(data.get("type")) or event.event or ""
    index = as_count(data.get("output_index")) or 0
    if kind == "response.output_text.delta" and as_str(data.get("delta")):
        out.text.append(as_str(data.get("delta")))
        out.produced(event.at)
    elif kind in _REASONING and as_str(data.get("delta")):
        out.thinking.append(as_str(data.get("delta")))
        out.produced(event.at)
    elif kind in ("response.output_item.added", "response.output_item.done"):
        item = as_dict(data.get("item"))
        if item.get("type") == "function_call":
            out.start_call(index, item.get("call_id"), item.get("name"))
            out.produced(event.at)
            if kind.endswith("done"):
                out.set_arguments(index, item.get("arguments"))
    elif kind == "response.function_call_arguments.delta":
        out.add_arguments(index, data.get("delta"))
        out.produced(event.at)
    elif kind == "response.function_call_arguments.done":
        out.set_arguments(index, data.get("arguments"))
    elif kind.startswith("response.") and isinstance(data.get("response"), dict):
        _read_response(data["response"], out, final=kind in _FINAL)
    elif kind == "error":
        out.error = as_str(data.get("message")) or as_str(as_dict(data.get("error")).get("message"))


def _read_response(response: dict[str, Any], out: Output, *, final: bool) -> None:
    out.response_model = as_str(response.get("model")) or out.response_model
    out.finish_reason = as_str(response.get("status")) or out.finish_reason
    out.error = as_str(as_dict(response.get("error")).get("message")) or out.error
    usage = as_dict(response.get("usage"))
    if usage:
        out.input_tokens = as_count(usage.get("input_tokens"))
        out.output_tokens = as_count(usage.get("output_tokens"))
        details = as_dict(usage.get("input_tokens_details"))
        out.cached_tokens = as_count(details.get("cached_tokens"))
    items = as_list(response.get("output"))
    if final and items:
        # The final object repeats the whole output: it wins over the deltas.
        out.text.clear()
        out.thinking.clear()
        out.calls.clear()
        _read_items(items, out)


def _read_items(items: list[Any], out: Output) -> None:
    for index, item in enumerate(items):
        item = as_dict(item)
        kind = item.get("type")
        if kind == "message":
            out.text += _texts(item.get("content"), "output_text")
        elif kind == "reasoning":
            out.thinking += _texts(item.get("summary"), "summary_text")
            out.thinking += _texts(item.get("content"), "reasoning_text")
        elif kind == "function_call":
            out.start_call(index, item.get("call_id"), item.get("name"))
            out.set_arguments(index, item.get("arguments"))


def _texts(parts: Any, kind: str) -> list[str]:
    parts = [as_dict(part) for part in as_list(parts)]
    return [as_str(part.get("text")) for part in parts if part.get("type") == kind]
