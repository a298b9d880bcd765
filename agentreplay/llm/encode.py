"""Encoding LLM answers: every wire format `decode` reads, written from a `Reply`.

Pure functions from (API, request body, reply) to the bytes a provider would
send: a JSON body, or a stream of events one per chunk (server-sent events;
AWS event-stream messages for Bedrock). The fake model server serves them;
replay's what-if overrides re-encode an edited answer with them. This module
writes the OpenAI and Anthropic formats; `encode_google` and
`encode_bedrock` write Gemini's and Bedrock's.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import agentreplay.llm.bedrock as bedrock
import agentreplay.llm.encode_bedrock as encode_bedrock
import agentreplay.llm.encode_google as encode_google
import agentreplay.llm.gemini as gemini
from agentreplay.llm.turn import (
    Event,
    ModelRequest,
    Reply,
    ToolCallSpec,
    Turn,
    arguments_json,
    pieces,
    signature,
    word_pieces,
)

__all__ = [
    "ModelRequest",
    "Reply",
    "ToolCallSpec",
    "api_of",
    "json_body",
    "model_request",
    "render",
    "stream_chunks",
]

_ROUTES = (("/chat/completions", "chat"), ("/responses", "responses"), ("/messages", "messages"))


# OpenAI Chat Completions ------------------------------------------------------


def _chat_usage(turn: Turn) -> dict[str, Any]:
    return {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.reply.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _chat_completion(turn: Turn) -> dict[str, Any]:
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
    function = {"name": call.name, "arguments": arguments_json(call)}
    return {"id": id_, "type": "function", "function": function}


def _chat_events(turn: Turn) -> Iterator[Event]:
    reply = turn.reply
    include_usage = bool((turn.request.body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> Event:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        data = _chat_chunk(turn, [choice])
        if include_usage:
            data["usage"] = None
        return None, data

    content = "" if reply.text or not reply.tool_calls else None
    yield chunk({"role": "assistant", "content": content, "refusal": None})
    for piece in word_pieces(reply.text):
        yield chunk({"content": piece})
    for index, id_, call in turn.calls():
        start = {"index": index, "id": id_, "type": "function"}
        yield chunk({"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]})
        for piece in pieces(arguments_json(call)):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, turn.finish_reason("tool_calls", "stop"))
    if include_usage:
        yield None, {**_chat_chunk(turn, []), "usage": _chat_usage(turn)}
    yield None, "[DONE]"


def _chat_chunk(turn: Turn, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": turn.id,
        "object": "chat.completion.chunk",
        "created": turn.created,
        "model": turn.model,
        "system_fingerprint": "fp_fake",
        "choices": choices,
    }


# OpenAI Responses -------------------------------------------------------------


def _response_items(turn: Turn) -> list[dict[str, Any]]:
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
                "arguments": arguments_json(call),
            }
        )
    return items


def _response(turn: Turn, output: list[dict[str, Any]], status: str) -> dict[str, Any]:
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


def _responses_body(turn: Turn) -> dict[str, Any]:
    return _response(turn, _response_items(turn), "completed")


def _responses_events(turn: Turn) -> Iterator[Event]:
    sequence = itertools.count()

    def event(kind: str, **fields: Any) -> Event:
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
    event: Callable[..., Event], index: int, item: dict[str, Any]
) -> Iterator[Event]:
    part = item["content"][0]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    added = {**item, "status": "in_progress", "content": []}
    yield event("response.output_item.added", output_index=index, item=added)
    yield event("response.content_part.added", **where, part={**part, "text": ""})
    for piece in word_pieces(part["text"]):
        yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
    yield event("response.output_text.done", **where, text=part["text"], logprobs=[])
    yield event("response.content_part.done", **where, part=part)
    yield event("response.output_item.done", output_index=index, item=item)


def _function_call_events(
    event: Callable[..., Event], index: int, item: dict[str, Any]
) -> Iterator[Event]:
    where = {"item_id": item["id"], "output_index": index}
    added = {**item, "status": "in_progress", "arguments": ""}
    yield event("response.output_item.added", output_index=index, item=added)
    for piece in pieces(item["arguments"]):
        yield event("response.function_call_arguments.delta", **where, delta=piece)
    done = {"name": item["name"], "arguments": item["arguments"]}
    yield event("response.function_call_arguments.done", **where, **done)
    yield event("response.output_item.done", output_index=index, item=item)


# Anthropic Messages -----------------------------------------------------------


def _message_blocks(turn: Turn) -> list[dict[str, Any]]:
    reply = turn.reply
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        thinking = {"type": "thinking", "thinking": reply.thinking}
        blocks.append({**thinking, "signature": signature(reply.thinking)})
    if reply.text or not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    for _, id_, call in turn.calls():
        blocks.append({"type": "tool_use", "id": id_, "name": call.name, "input": call.arguments})
    return blocks


def _message(
    turn: Turn, content: list[dict[str, Any]], stop_reason: str | None, output_tokens: int
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


def _messages_body(turn: Turn) -> dict[str, Any]:
    stop_reason = turn.finish_reason("tool_use", "end_turn")
    return _message(turn, _message_blocks(turn), stop_reason, turn.output_tokens)


def _messages_events(turn: Turn) -> Iterator[Event]:
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
        deltas = [{"type": "thinking_delta", "thinking": p} for p in word_pieces(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        start = {**block, "thinking": "", "signature": ""}
    elif block["type"] == "text":
        deltas = [{"type": "text_delta", "text": p} for p in word_pieces(block["text"])]
        start = {**block, "text": ""}
    else:
        parts = pieces(json.dumps(block["input"]))
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in parts]
        start = {**block, "input": {}}
    return {"content_block": start}, [{"delta": delta} for delta in deltas]


_BODIES: dict[str, Callable[[Turn], dict[str, Any]]] = {
    "chat": _chat_completion,
    "responses": _responses_body,
    "messages": _messages_body,
    "generateContent": encode_google.body,
    "converse": encode_bedrock.body,
}
_EVENTS: dict[str, Callable[[Turn], Iterator[Event]]] = {
    "chat": _chat_events,
    "responses": _responses_events,
    "messages": _messages_events,
    "generateContent": encode_google.events,
    "converse": encode_bedrock.events,
}


def _sse(event: Event) -> bytes:
    name, data = event
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n".encode()


_FRAMES: dict[str, Callable[[Event], bytes]] = {
    "generateContent": encode_google.frame,
    "converse": encode_bedrock.frame,
}
_STREAM_TYPES = {"converse": encode_bedrock.CONTENT_TYPE}


def api_of(method: str, path: str) -> str | None:
    """Which model API a request calls (see `ModelRequest.api`), or None. As in decoding,
    any path prefix is accepted: ``/v1/chat/completions``, ``/api/v1/chat/completions``..."""
    path = urlsplit(path).path.rstrip("/")
    if method.upper() != "POST":
        return None
    for suffix, api in _ROUTES:
        if path.endswith(suffix):
            return api
    if gemini.PATH.search(path):
        return "generateContent"
    if bedrock.PATH.search(path):
        return "converse"
    return None


def model_request(
    method: str, path: str, headers: dict[str, str], body: dict[str, Any]
) -> ModelRequest | None:
    """The request as a `ModelRequest`, or None if it calls no model API.

    Whether the answer is streamed is in the body for OpenAI and Anthropic and
    in the path for Gemini (``:streamGenerateContent``) and Bedrock
    (``/converse-stream``).
    """
    api = api_of(method, path)
    if api is None:
        return None
    bare = urlsplit(path).path.rstrip("/")
    if api == "generateContent":
        stream = bare.endswith(":streamGenerateContent")
    elif api == "converse":
        stream = bare.endswith("/converse-stream")
    else:
        stream = bool(body.get("stream"))
    return ModelRequest(api, path, headers, body, stream)


def stream_chunks(turn: Turn) -> tuple[str, Iterator[bytes]]:
    """The content type and the chunks, one per event, of the turn's streamed answer."""
    api = turn.request.api
    frame = _FRAMES.get(api, _sse)
    content_type = _STREAM_TYPES.get(api, "text/event-stream; charset=utf-8")
    return content_type, (frame(event) for event in _EVENTS[api](turn))


def json_body(turn: Turn) -> bytes:
    """The turn's answer as one JSON body."""
    return json.dumps(_BODIES[turn.request.api](turn)).encode()


def render(
    request: ModelRequest, reply: Reply, new_id: Callable[[str], str] | None = None
) -> tuple[str, list[bytes]]:
    """The content type and body chunks a provider would send for ``reply``: one chunk
    for a JSON body, one per event for a stream."""
    if new_id is None:
        counters: dict[str, Iterator[int]] = {}

        def new_id(prefix: str) -> str:
            return f"{prefix}{next(counters.setdefault(prefix, itertools.count(1)))}"

    turn = Turn(request, reply, new_id)
    if request.stream:
        content_type, chunks = stream_chunks(turn)
        return content_type, list(chunks)
    return "application/json", [json_body(turn)]
