"""Encoding answers as Amazon Bedrock's Converse API sends them.

``/converse`` answers one JSON body; ``/converse-stream`` answers AWS
event-stream messages (`eventstream`): ``messageStart``, then for each
content block its ``contentBlockStart`` (tool use only), deltas and
``contentBlockStop``, then ``messageStop`` and ``metadata`` with the usage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from agentreplay.llm.eventstream import CONTENT_TYPE, encode_message
from agentreplay.llm.turn import Event, Turn, pieces, signature, word_pieces

__all__ = ["CONTENT_TYPE", "body", "events", "frame"]

_LATENCY_MS = 100


def _usage(turn: Turn) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "inputTokens": turn.input_tokens,
        "outputTokens": turn.output_tokens,
        "totalTokens": turn.input_tokens + turn.output_tokens + turn.reply.cached_tokens,
    }
    if turn.reply.cached_tokens:
        usage["cacheReadInputTokens"] = turn.reply.cached_tokens
        usage["cacheWriteInputTokens"] = 0
    return usage


def _blocks(turn: Turn) -> list[dict[str, Any]]:
    reply = turn.reply
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        reasoning = {"text": reply.thinking, "signature": signature(reply.thinking)}
        blocks.append({"reasoningContent": {"reasoningText": reasoning}})
    if reply.text or not reply.tool_calls:
        blocks.append({"text": reply.text})
    for _, id_, call in turn.calls():
        blocks.append({"toolUse": {"toolUseId": id_, "name": call.name, "input": call.arguments}})
    return blocks


def body(turn: Turn) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": _blocks(turn)}},
        "stopReason": turn.finish_reason("tool_use", "end_turn"),
        "usage": _usage(turn),
        "metrics": {"latencyMs": _LATENCY_MS},
    }


def events(turn: Turn) -> Iterator[Event]:
    yield "messageStart", {"role": "assistant"}
    for index, block in enumerate(_blocks(turn)):
        where = {"contentBlockIndex": index}
        use = block.get("toolUse")
        if use is not None:
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            yield "contentBlockStart", {"start": start, **where}
        for delta in _deltas(block):
            yield "contentBlockDelta", {"delta": delta, **where}
        yield "contentBlockStop", where
    yield "messageStop", {"stopReason": turn.finish_reason("tool_use", "end_turn")}
    yield "metadata", {"usage": _usage(turn), "metrics": {"latencyMs": _LATENCY_MS}}


def _deltas(block: dict[str, Any]) -> list[dict[str, Any]]:
    if "text" in block:
        return [{"text": piece} for piece in word_pieces(block["text"])]
    if "toolUse" in block:
        arguments = json.dumps(block["toolUse"]["input"])
        return [{"toolUse": {"input": piece}} for piece in pieces(arguments)]
    reasoning = block["reasoningContent"]["reasoningText"]
    deltas = [{"reasoningContent": {"text": piece}} for piece in word_pieces(reasoning["text"])]
    return [*deltas, {"reasoningContent": {"signature": reasoning["signature"]}}]


def frame(event: Event) -> bytes:
    name, data = event
    headers = {
        ":event-type": name or "",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    payload = data if isinstance(data, str) else json.dumps(data)
    return encode_message(headers, payload.encode())
