"""Encoding LLM answers: the OpenAI and Anthropic wire formats, written from a `Reply`.

Pure functions from (API, request body, reply) to the bytes a provider would
send: a JSON body, or server-sent events one per chunk. The fake model server
serves them; replay's what-if overrides re-encode an edited answer with them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ModelRequest",
    "Reply",
    "ToolCallSpec",
    "api_of",
    "render",
]

_ROUTES = {"/chat/completions": "chat", "/responses": "responses", "/messages": "messages"}
_RESPONSE_ID_PREFIX = {"chat": "chatcmpl-", "responses": "resp_", "messages": "msg_"}

_Event = tuple[str | None, dict[str, Any] | str]
"""One server-sent event: its ``event:`` name (if any) and its data."""


@dataclass
class ToolCallSpec:
    """A tool call the fake model makes; ``id`` is generated when left ``None``."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass
class Reply:
    """What the fake model answers, whatever the wire format.

    ``thinking`` becomes an Anthropic thinking block; the OpenAI formats drop
    it. ``finish_reason`` is sent as the chat ``finish_reason`` or the
    Anthropic ``stop_reason`` (Responses has no such field); left ``None`` it
    is ``tool_calls``/``tool_use`` when there are tool calls, else
    ``stop``/``end_turn``. Token counts left ``None`` are estimated from the
    sizes of the request and the reply.
    """

    text: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    thinking: str = ""
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0


@dataclass
class ModelRequest:
    """A model API request the server received; ``headers`` keys are lower case."""

    api: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    stream: bool


# Shared helpers ---------------------------------------------------------------


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _word_pieces(text: str) -> list[str]:
    """Split ``text`` into deltas of two or three words that join back to it exactly."""
    words = re.findall(r"\s*\S+|\s+$", text)
    pieces: list[str] = []
    sizes = itertools.cycle((2, 3))
    while words:
        size = next(sizes)
        pieces.append("".join(words[:size]))
        words = words[size:]
    return pieces


def _pieces(text: str, count: int = 4) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _arguments(call: ToolCallSpec) -> str:
    return json.dumps(call.arguments)


def _given_or(value: int | None, default: int) -> int:
    return default if value is None else value


class _Turn:
    """A reply about to be sent for a request, with the ids and counts it needs."""

    def __init__(self, request: ModelRequest, reply: Reply, new_id: Callable[[str], str]) -> None:
        self.request = request
        self.reply = reply
        self.new_id = new_id
        self.id = new_id(_RESPONSE_ID_PREFIX[request.api])
        prefix = "toolu_" if request.api == "messages" else "call_"
        self.tool_ids = [call.id or new_id(prefix) for call in reply.tool_calls]
        self.model = str(request.body.get("model", "fake-model"))
        self.created = int(time.time())
        produced = reply.text + reply.thinking + "".join(map(_arguments, reply.tool_calls))
        self.input_tokens = _given_or(reply.input_tokens, _tokens(json.dumps(request.body)))
        self.output_tokens = _given_or(reply.output_tokens, _tokens(produced))

    def calls(self) -> Iterator[tuple[int, str, ToolCallSpec]]:
        for index, id_ in enumerate(self.tool_ids):
            yield index, id_, self.reply.tool_calls[index]

    def finish_reason(self, with_tools: str, without: str) -> str:
        if self.reply.finish_reason is not None:
            return self.reply.finish_reason
        return with_tools if self.reply.tool_calls else without


# OpenAI Chat Completions ------------------------------------------------------


def _chat_usage(turn: _Turn) -> dict[str, Any]:
    return {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.reply.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _chat_completion(turn: _Turn) -> dict[str, Any]:
    reply = turn.reply
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text if reply.text or not reply.tool_calls else None,
        "refusal": None,
    }
    if reply.tool_calls:
        message["tool_calls"] = [_chat_tool_call(id_, call) for _, id_, call in turn.calls()]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": turn.finish_reason("tool_calls", "stop"),
    }
    return {
        "id": turn.id,
        "object": "chat.completion",
        "created": turn.created,
        "model": turn.model,
        "choices": [choice],
        "usage": _chat_usage(turn),
        "system_fingerprint": "fp_fake",
    }


def _chat_tool_call(id_: str, call: ToolCallSpec) -> dict[str, Any]:
    function = {"name": call.name, "arguments": _arguments(call)}
    return {"id": id_, "type": "function", "function": function}


def _chat_events(turn: _Turn) -> Iterator[_Event]:
    reply = turn.reply
    include_usage = bool((turn.request.body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> _Event:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        data = _chat_chunk(turn, [choice])
        if include_usage:
            data["usage"] = None
        return None, data

    content = "" if reply.text or not reply.tool_calls else None
    yield chunk({"role": "assistant", "content": content, "refusal": None})
    for piece in _word_pieces(reply.text):
        yield chunk({"content": piece})
    for index, id_, call in turn.calls():
        start = {"index": index, "id": id_, "type": "function"}
        yield chunk({"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]})
        for piece in _pieces(_arguments(call)):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, turn.finish_reason("tool_calls", "stop"))
    if include_usage:
        yield None, {**_chat_chunk(turn, []), "usage": _chat_usage(turn)}
    yield None, "[DONE]"


def _chat_chunk(turn: _Turn, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": turn.id,
        "object": "chat.completion.chunk",
        "created": turn.created,
        "model": turn.model,
        "system_fingerprint": "fp_fake",
        "choices": choices,
    }


# OpenAI Responses -------------------------------------------------------------


def _response_items(turn: _Turn) -> list[dict[str, Any]]:
    reply = turn.reply
    items: list[dict[str, Any]] = []
    if reply.text or not reply.tool_calls:
        text = {"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}
        items.append(
            {
                "id": turn.new_id("msg_"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [text],
            }
        )
    for _, id_, call in turn.calls():
        items.append(
            {
                "id": turn.new_id("fc_"),
                "type": "function_call",
                "status": "completed",
                "call_id": id_,
                "name": call.name,
                "arguments": _arguments(call),
            }
        )
    return items


def _response(turn: _Turn, output: list[dict[str, Any]], status: str) -> dict[str, Any]:
    body = turn.request.body
    cached = turn.reply.cached_tokens
    usage = {
        "input_tokens": turn.input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": turn.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }
    done = status == "completed"
    return {
        "id": turn.id,
        "object": "response",
        "created_at": turn.created,
        "completed_at": turn.created if done else None,
        "status": status,
        "model": turn.model,
        "output": output,
        "instructions": body.get("instructions"),
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "text": body.get("text") or {"format": {"type": "text"}},
        "error": None,
        "incomplete_details": None,
        "usage": usage if done else None,
    }


def _responses_body(turn: _Turn) -> dict[str, Any]:
    return _response(turn, _response_items(turn), "completed")


def _responses_events(turn: _Turn) -> Iterator[_Event]:
    sequence = itertools.count()

    def event(kind: str, **fields: Any) -> _Event:
        return kind, {"type": kind, "sequence_number": next(sequence), **fields}

    items = _response_items(turn)
    yield event("response.created", response=_response(turn, [], "in_progress"))
    yield event("response.in_progress", response=_response(turn, [], "in_progress"))
    for index, item in enumerate(items):
        if item["type"] == "message":
            yield from _message_item_events(event, index, item)
        else:
            yield from _function_call_events(event, index, item)
    yield event("response.completed", response=_response(turn, items, "completed"))


def _message_item_events(
    event: Callable[..., _Event], index: int, item: dict[str, Any]
) -> Iterator[_Event]:
    part = item["content"][0]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    added = {**item, "status": "in_progress", "content": []}
    yield event("response.output_item.added", output_index=index, item=added)
    yield event("response.content_part.added", **where, part={**part, "text": ""})
    for piece in _word_pieces(part["text"]):
        yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
    yield event("response.output_text.done", **where, text=part["text"], logprobs=[])
    yield event("response.content_part.done", **where, part=part)
    yield event("response.output_item.done", output_index=index, item=item)


def _function_call_events(
    event: Callable[..., _Event], index: int, item: dict[str, Any]
) -> Iterator[_Event]:
    where = {"item_id": item["id"], "output_index": index}
    added = {**item, "status": "in_progress", "arguments": ""}
    yield event("response.output_item.added", output_index=index, item=added)
    for piece in _pieces(item["arguments"]):
        yield event("response.function_call_arguments.delta", **where, delta=piece)
    done = {"name": item["name"], "arguments": item["arguments"]}
    yield event("response.function_call_arguments.done", **where, **done)
    yield event("response.output_item.done", output_index=index, item=item)


# Anthropic Messages -----------------------------------------------------------


def _signature(thinking: str) -> str:
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()


def _message_blocks(turn: _Turn) -> list[dict[str, Any]]:
    reply = turn.reply
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        thinking = {"type": "thinking", "thinking": reply.thinking}
        blocks.append({**thinking, "signature": _signature(reply.thinking)})
    if reply.text or not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    for _, id_, call in turn.calls():
        blocks.append({"type": "tool_use", "id": id_, "name": call.name, "input": call.arguments})
    return blocks


def _message(
    turn: _Turn, content: list[dict[str, Any]], stop_reason: str | None, output_tokens: int
) -> dict[str, Any]:
    usage = {
        "input_tokens": turn.input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": turn.reply.cached_tokens,
        "cache_creation_input_tokens": 0,
    }
    return {
        "id": turn.id,
        "type": "message",
        "role": "assistant",
        "model": turn.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _messages_body(turn: _Turn) -> dict[str, Any]:
    stop_reason = turn.finish_reason("tool_use", "end_turn")
    return _message(turn, _message_blocks(turn), stop_reason, turn.output_tokens)


def _messages_events(turn: _Turn) -> Iterator[_Event]:
    yield "message_start", {"type": "message_start", "message": _message(turn, [], None, 1)}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(_message_blocks(turn)):
        start, deltas = _block_stream(block)
        yield "content_block_start", {"type": "content_block_start", "index": index, **start}
        for delta in deltas:
            yield "content_block_delta", {"type": "content_block_delta", "index": index, **delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    delta = {"stop_reason": turn.finish_reason("tool_use", "end_turn"), "stop_sequence": None}
    usage = {"output_tokens": turn.output_tokens}
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
    yield "message_stop", {"type": "message_stop"}


def _block_stream(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``content_block_start`` fields of a block and its deltas."""
    if block["type"] == "thinking":
        pieces = _word_pieces(block["thinking"])
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        start = {**block, "thinking": "", "signature": ""}
    elif block["type"] == "text":
        deltas = [{"type": "text_delta", "text": p} for p in _word_pieces(block["text"])]
        start = {**block, "text": ""}
    else:
        pieces = _pieces(json.dumps(block["input"]))
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        start = {**block, "input": {}}
    return {"content_block": start}, [{"delta": delta} for delta in deltas]


_BODIES: dict[str, Callable[[_Turn], dict[str, Any]]] = {
    "chat": _chat_completion,
    "responses": _responses_body,
    "messages": _messages_body,
}
_EVENTS: dict[str, Callable[[_Turn], Iterator[_Event]]] = {
    "chat": _chat_events,
    "responses": _responses_events,
    "messages": _messages_events,
}


def _route(method: str, path: str) -> str | None:
    path = path.split("?", 1)[0].rstrip("/")
    path = path.removeprefix("/v1")
    return _ROUTES.get(path) if method == "POST" else None


def _sse(name: str | None, data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n".encode()


def api_of(method: str, path: str) -> str | None:
    """Which model API a request calls ("chat", "responses", "messages"), or None."""
    return _route(method, path)


def render(
    request: ModelRequest, reply: Reply, new_id: Callable[[str], str] | None = None
) -> tuple[str, list[bytes]]:
    """The content type and body chunks a provider would send for ``reply``: one chunk
    for a JSON body, one per event for a stream."""
    if new_id is None:
        counters: dict[str, Iterator[int]] = {}

        def new_id(prefix: str) -> str:
            return f"{prefix}{next(counters.setdefault(prefix, itertools.count(1)))}"

    turn = _Turn(request, reply, new_id)
    if request.stream:
        events = [_sse(name, data) for name, data in _EVENTS[request.api](turn)]
        return "text/event-stream; charset=utf-8", events
    return "application/json", [json.dumps(_BODIES[request.api](turn)).encode()]
