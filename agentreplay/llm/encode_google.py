"""Encoding answers as Google Gemini sends them (``generateContent``).

A streamed answer (``:streamGenerateContent?alt=sse``) is a series of whole
``GenerateContentResponse`` objects, each carrying the next piece of the
candidate; the last one carries the finish reason and the final usage, as
real traffic does. Events are separated by CRLF pairs, as Google's are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from agentreplay.llm.turn import Event, Turn, tokens, word_pieces

__all__ = ["body", "events", "frame"]


def _usage(turn: Turn, *, final: bool) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": turn.input_tokens}
    if final:
        thoughts = (
            min(tokens(turn.reply.thinking), turn.output_tokens) if turn.reply.thinking else 0
        )
        usage["candidatesTokenCount"] = turn.output_tokens - thoughts
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
    usage["totalTokenCount"] = turn.input_tokens + (turn.output_tokens if final else 0)
    if turn.reply.cached_tokens:
        usage["cachedContentTokenCount"] = turn.reply.cached_tokens
    return usage


def _call_part(turn: Turn, index: int) -> dict[str, Any]:
    call = turn.reply.tool_calls[index]
    function: dict[str, Any] = {"name": call.name, "args": call.arguments}
    if call.id:  # the Developer API sends no ids; Vertex AI and newer models may
        function["id"] = call.id
    return {"functionCall": function}


def _response(turn: Turn, parts: list[dict[str, Any]], *, final: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if final:
        candidate["finishReason"] = turn.finish_reason("STOP", "STOP")
    candidate["index"] = 0
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(turn, final=final),
        "modelVersion": turn.model,
        "responseId": turn.id,
    }


def body(turn: Turn) -> dict[str, Any]:
    reply = turn.reply
    parts: list[dict[str, Any]] = []
    if reply.thinking:
        parts.append({"text": reply.thinking, "thought": True})
    if reply.text or not reply.tool_calls:
        parts.append({"text": reply.text})
    parts += [_call_part(turn, index) for index, _, _ in turn.calls()]
    return _response(turn, parts, final=True)


def events(turn: Turn) -> Iterator[Event]:
    reply = turn.reply
    chunks: list[list[dict[str, Any]]] = []
    chunks += [[{"text": piece, "thought": True}] for piece in word_pieces(reply.thinking)]
    chunks += [[{"text": piece}] for piece in word_pieces(reply.text)]
    chunks += [[_call_part(turn, index)] for index, _, _ in turn.calls()]
    if not chunks:
        chunks.append([{"text": ""}])
    for number, parts in enumerate(chunks, 1):
        yield None, _response(turn, parts, final=number == len(chunks))


def frame(event: Event) -> bytes:
    _, data = event
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"data: {payload}\r\n\r\n".encode()
