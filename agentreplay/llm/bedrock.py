"""Amazon Bedrock Converse (``POST /model/{modelId}/converse`` and ``/converse-stream``).

Converse speaks one format for every model on Bedrock. The model is named
in the path (URL-encoded: ``anthropic.claude-3-haiku-20240307-v1%3A0``);
the streamed form answers in AWS event-stream framing (`eventstream`), one
``messageStart``, ``contentBlockStart``/``Delta``/``Stop``, ``messageStop``
and ``metadata`` message at a time. Content blocks are normalised to
chat-style messages: ``toolUse`` blocks become ``tool_calls`` and
``toolResult`` blocks become ``tool`` messages.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from agentreplay.llm.model import Output, Request, tool
from agentreplay.llm.wire import SseEvent, as_count, as_dict, as_list, as_str, load_json

__all__ = ["PATH", "model_in", "read_body", "read_event", "read_request"]

PATH = re.compile(r"/model/([^/]+)/(converse|converse-stream)$")
"""A Converse path: group 1 is the model (URL-encoded), group 2 the operation."""


def model_in(path: str) -> str:
    """The model a Converse path names, or ``""``."""
    match = PATH.search(path)
    return unquote(match.group(1)) if match else ""


def read_request(body: dict[str, Any], path: str) -> Request | None:
    given = body.get("messages")
    if not isinstance(given, list) and not body.get("system"):
        return None
    messages: list[dict[str, Any]] = []
    system = as_list(body.get("system"))
    if system:
        messages.append({"role": "system", "content": _blocks_content(system)})
    for message in as_list(given):
        if isinstance(message, dict):
            messages += _messages(message)
    tool_config = as_dict(body.get("toolConfig"))
    params = dict(as_dict(body.get("inferenceConfig")))
    params.update(as_dict(body.get("additionalModelRequestFields")))
    if "toolChoice" in tool_config:
        params["toolChoice"] = tool_config["toolChoice"]
    match = PATH.search(path)
    return Request(
        model=model_in(path),
        messages=messages,
        tools=[
            _tool(as_dict(entry))
            for entry in as_list(tool_config.get("tools"))
            if not _cache_point(entry)
        ],
        params=params,
        stream=bool(match and match.group(2) == "converse-stream"),
    )


def _messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    """One message; its tool results each become a ``tool`` message."""
    role = as_str(message.get("role")) or "user"
    calls, answers, rest = [], [], []
    for block in as_list(message.get("content")):
        block = as_dict(block)
        use, result = as_dict(block.get("toolUse")), as_dict(block.get("toolResult"))
        if use:
            function = {"name": as_str(use.get("name")), "arguments": _dumps(use.get("input"))}
            calls.append(
                {"id": as_str(use.get("toolUseId")), "type": "function", "function": function}
            )
        elif result:
            answers.append(
                {
                    "role": "tool",
                    "tool_call_id": as_str(result.get("toolUseId")),
                    "content": _blocks_content(as_list(result.get("content"))),
                }
            )
        elif not _cache_point(block):
            rest.append(block)
    messages: list[dict[str, Any]] = []
    if rest or calls or not answers:
        sent: dict[str, Any] = {"role": role}
        sent["content"] = _blocks_content(rest) if rest or not calls else ""
        if calls:
            sent["tool_calls"] = calls
        messages.append(sent)
    return answers + messages  # results answer the calls just before them


def _blocks_content(blocks: list[Any]) -> str | list[Any]:
    """Text blocks joined into one string; anything else kept as the list of blocks.
    Cache points mark where a cached prefix ends: they are not content."""
    blocks = [as_dict(block) for block in blocks if not _cache_point(block)]
    if all(set(block) == {"text"} and isinstance(block["text"], str) for block in blocks):
        return "".join(block["text"] for block in blocks)
    return blocks


def _cache_point(block: Any) -> bool:
    return isinstance(block, dict) and set(block) == {"cachePoint"}


def _tool(entry: dict[str, Any]) -> dict[str, Any]:
    spec = as_dict(entry.get("toolSpec"))
    if not spec:  # a cache point or a system tool, named by its kind
        return tool(next(iter(entry), "tool"), None, None)
    schema = as_dict(spec.get("inputSchema"))
    return tool(spec.get("name"), spec.get("description"), schema.get("json"))


def read_body(data: Any, out: Output) -> None:
    """A complete Converse response."""
    data = as_dict(data)
    message = as_dict(as_dict(data.get("output")).get("message"))
    for index, block in enumerate(as_list(message.get("content"))):
        block = as_dict(block)
        use = as_dict(block.get("toolUse"))
        reasoning = as_dict(as_dict(block.get("reasoningContent")).get("reasoningText"))
        if "text" in block:
            out.text.append(as_str(block.get("text")))
        elif reasoning:
            out.thinking.append(as_str(reasoning.get("text")))
        elif use:
            out.start_call(index, use.get("toolUseId"), use.get("name"))
            out.set_arguments(index, _dumps(use.get("input", {})))
    out.finish_reason = as_str(data.get("stopReason")) or out.finish_reason
    _read_usage(as_dict(data.get("usage")), out)


def read_event(event: SseEvent, out: Output) -> None:
    kind = event.event or ""
    data = as_dict(load_json(event.data))
    index = as_count(data.get("contentBlockIndex")) or 0
    if kind == "contentBlockStart":
        use = as_dict(as_dict(data.get("start")).get("toolUse"))
        if use:
            out.start_call(index, use.get("toolUseId"), use.get("name"))
            out.produced(event.at)
    elif kind == "contentBlockDelta":
        _read_delta(as_dict(data.get("delta")), index, event.at, out)
    elif kind == "contentBlockStop":
        out.end_call(index, "{}")  # a tool called with no input streams no input
    elif kind == "messageStop":
        out.finish_reason = as_str(data.get("stopReason")) or out.finish_reason
    elif kind == "metadata":
        _read_usage(as_dict(data.get("usage")), out)
    elif kind.endswith(("Exception", "error")):
        out.error = as_str(data.get("message")) or as_str(data.get("Message")) or kind


def _read_delta(delta: dict[str, Any], index: int, at: int, out: Output) -> None:
    reasoning = as_dict(delta.get("reasoningContent"))
    if as_str(delta.get("text")):
        out.text.append(as_str(delta.get("text")))
    elif as_str(reasoning.get("text")):
        out.thinking.append(as_str(reasoning.get("text")))
    elif "toolUse" in delta:
        out.start_call(index, "", "")
        out.add_arguments(index, as_dict(delta.get("toolUse")).get("input"))
    else:
        return
    out.produced(at)


def _read_usage(usage: dict[str, Any], out: Output) -> None:
    """Like Anthropic, Bedrock counts cache reads and writes apart from ``inputTokens``."""
    if not usage:
        return
    output = as_count(usage.get("outputTokens"))
    out.output_tokens = out.output_tokens if output is None else output
    fresh = as_count(usage.get("inputTokens"))
    read = as_count(usage.get("cacheReadInputTokens"))
    written = as_count(usage.get("cacheWriteInputTokens"))
    if read is not None:
        out.cached_tokens = read
    if fresh is not None:
        out.input_tokens = fresh + (read or 0) + (written or 0)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return ""
