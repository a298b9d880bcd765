"""Whatever the bodies, decoding an exchange never raises.

Besides arbitrary bytes, the JSON tests start from well-formed requests and
answers of each API and replace any part of them by a value of another type
or leave it out, so that every field the decoders read gets a hostile shape.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentreplay.cassette import HttpChunk, HttpRequest, HttpResponse
from agentreplay.llm import LLMCall
from agentreplay.llm.decode import decode_exchange_strict
from agentreplay.llm.eventstream import CONTENT_TYPE, encode_message

CHAT = "http://127.0.0.1:8000/v1/chat/completions"
RESPONSES = "https://api.openai.com/v1/responses"
MESSAGES = "https://api.anthropic.com/v1/messages"
GEMINI = "https://generativelanguage.googleapis.com/v1beta/models/g:streamGenerateContent?alt=sse"
BEDROCK = "https://bedrock-runtime.us-east-1.amazonaws.com/model/a.m%3A0/converse-stream"
URLS = [CHAT, RESPONSES, MESSAGES, GEMINI, BEDROCK, "http://127.0.0.1:8000/v1/embeddings"]
HEADERS = st.lists(
    st.sampled_from(
        [
            ("content-type", "text/event-stream"),
            ("content-type", "application/json"),
            ("content-type", CONTENT_TYPE),
            ("Content-Type", "text/plain"),
            ("content-encoding", "gzip"),
            ("content-encoding", "deflate"),
            ("content-encoding", "br"),
            ("content-encoding", "gzip, identity"),
        ]
    ),
    max_size=3,
).map(tuple)
STATUSES = st.sampled_from([200, 200, 200, 400, 500])
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))

USAGE = {
    "prompt_tokens": 3,
    "completion_tokens": 2,
    "prompt_tokens_details": {"cached_tokens": 1},
    "input_tokens": 3,
    "output_tokens": 2,
    "input_tokens_details": {"cached_tokens": 1},
    "cache_read_input_tokens": 1,
    "cache_creation_input_tokens": 0,
    "promptTokenCount": 3,
    "candidatesTokenCount": 2,
    "thoughtsTokenCount": 1,
    "cachedContentTokenCount": 1,
    "inputTokens": 3,
    "outputTokens": 2,
    "cacheReadInputTokens": 1,
}
CALL = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
ITEMS = [
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "x"}]},
    {"type": "reasoning", "summary": [{"type": "summary_text", "text": "t"}], "content": []},
    {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "c", "output": "o"},
]
RESPONSE = {"model": "m", "status": "completed", "error": {"message": "e"}, "usage": USAGE}
PARTS = [
    {"text": "x"},
    {"text": "t", "thought": True},
    {"functionCall": {"name": "f", "args": {"a": 1}}},
    {"functionResponse": {"name": "f", "response": {"r": 1}}},
]
GEMINI_ANSWER = {
    "candidates": [{"index": 0, "content": {"role": "model", "parts": PARTS}, "finishReason": "S"}],
    "usageMetadata": USAGE,
    "modelVersion": "g",
    "promptFeedback": {"blockReason": "b"},
    "error": {"message": "e"},
}
BLOCKS = [
    {"text": "x"},
    {"reasoningContent": {"reasoningText": {"text": "t"}}},
    {"toolUse": {"toolUseId": "t", "name": "f", "input": {"a": 1}}},
    {"toolResult": {"toolUseId": "t", "content": [{"text": "r"}, {"json": {}}]}},
]
TEMPLATES: dict[str, dict[str, Any]] = {
    CHAT: {
        "request": {
            "model": "m",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "tool_calls": [CALL]},
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
            "functions": [{"name": "g", "description": "d"}],
            "stream": True,
            "temperature": 0.5,
        },
        "body": {
            "model": "m",
            "usage": USAGE,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "content": [{"type": "text", "text": "x"}],
                        "reasoning_content": "r",
                        "tool_calls": [CALL],
                        "function_call": {"name": "f", "arguments": "{}"},
                    },
                }
            ],
        },
        "events": [
            {
                "model": "m",
                "usage": USAGE,
                "error": {"message": "e"},
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "delta": {
                            "content": "x",
                            "reasoning": "r",
                            "tool_calls": [{**CALL, "index": 1}],
                        },
                    }
                ],
            }
        ],
    },
    RESPONSES: {
        "request": {"model": "m", "instructions": "i", "input": ITEMS, "tools": [{"type": "x"}]},
        "body": {**RESPONSE, "output": ITEMS},
        "events": [
            {"type": "response.output_text.delta", "delta": "x"},
            {"type": "response.reasoning_summary_text.delta", "delta": "t"},
            {"type": "response.output_item.added", "output_index": 1, "item": ITEMS[2]},
            {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "{"},
            {"type": "response.function_call_arguments.done", "output_index": 1, "arguments": "{}"},
            {"type": "response.output_item.done", "output_index": 1, "item": ITEMS[2]},
            {"type": "response.completed", "response": {**RESPONSE, "output": ITEMS}},
            {"type": "error", "message": "e", "error": {"message": "e"}},
        ],
    },
    MESSAGES: {
        "request": {
            "model": "m",
            "system": [{"type": "text", "text": "s"}],
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "f", "input_schema": {}}, {"type": "web_search_2025"}],
        },
        "body": {
            "model": "m",
            "stop_reason": "end_turn",
            "usage": USAGE,
            "content": [
                {"type": "text", "text": "x"},
                {"type": "thinking", "thinking": "t"},
                {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
            ],
        },
        "events": [
            {"type": "message_start", "message": {"model": "m", "usage": USAGE}},
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
            },
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": "x"},
            },
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "{"},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "t"},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "x"},
            },
            {"type": "content_block_stop", "index": 1},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": USAGE},
            {"type": "error", "error": {"message": "e"}},
        ],
    },
}

TEMPLATES[GEMINI] = {
    "request": {
        "contents": [{"role": "user", "parts": PARTS}, {"role": "model", "parts": PARTS}],
        "systemInstruction": {"parts": [{"text": "s"}]},
        "tools": [
            {"functionDeclarations": [{"name": "f", "parameters": {}}]},
            {"googleSearch": {}},
        ],
        "generationConfig": {"temperature": 0.5},
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    },
    "body": GEMINI_ANSWER,
    "events": [GEMINI_ANSWER, {**GEMINI_ANSWER, "candidates": [{"content": {"parts": PARTS}}]}],
}
TEMPLATES[BEDROCK] = {
    "request": {
        "messages": [{"role": "user", "content": BLOCKS}, {"role": "assistant", "content": BLOCKS}],
        "system": [{"text": "s"}],
        "inferenceConfig": {"maxTokens": 5},
        "additionalModelRequestFields": {"top_k": 5},
        "toolConfig": {"tools": [{"toolSpec": {"name": "f"}}, {"cachePoint": {}}]},
    },
    "body": {
        "output": {"message": {"role": "assistant", "content": BLOCKS}},
        "stopReason": "end_turn",
        "usage": USAGE,
    },
    # Event-stream messages are named in their headers: "name" goes there, "data" is sent.
    "events": [
        {"name": "messageStart", "data": {"role": "assistant"}},
        {"name": "contentBlockStart", "data": {"contentBlockIndex": 1, "start": BLOCKS[2]}},
        {"name": "contentBlockDelta", "data": {"contentBlockIndex": 0, "delta": {"text": "x"}}},
        {
            "name": "contentBlockDelta",
            "data": {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{}"}}},
        },
        {
            "name": "contentBlockDelta",
            "data": {"contentBlockIndex": 2, "delta": {"reasoningContent": {"text": "t"}}},
        },
        {"name": "contentBlockStop", "data": {"contentBlockIndex": 1}},
        {"name": "messageStop", "data": {"stopReason": "tool_use"}},
        {"name": "metadata", "data": {"usage": USAGE}},
        {"name": "throttlingException", "data": {"message": "e"}},
    ],
}
STREAMS = {BEDROCK: CONTENT_TYPE}


def _stream_piece(url: str, event: Any) -> bytes:
    """An event as its API streams it: an SSE event, or an event-stream message."""
    if url != BEDROCK:
        return f"data: {json.dumps(event)}\n\n".encode()
    event = event if isinstance(event, dict) else {}
    name = event.get("name") if isinstance(event.get("name"), str) else ""
    return encode_message({":event-type": name}, json.dumps(event.get("data")).encode())


OTHER: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(-3, 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=3)
    | st.just([])
    | st.just({})
    | st.lists(st.integers(0, 3) | st.text(max_size=2), max_size=3)
)


def mutated(template: Any) -> st.SearchStrategy[Any]:
    """``template``, with any part of it replaced by a value of another type, or left out."""
    same: st.SearchStrategy[Any]
    if isinstance(template, dict):
        parts = {key: mutated(value) for key, value in template.items()}
        same = st.fixed_dictionaries({}, optional=parts)
    elif isinstance(template, list) and template:
        same = st.lists(st.one_of([mutated(value) for value in template]), max_size=4)
    else:
        same = st.just(template)
    return st.one_of(same, same, same, OTHER)


def _decode(url: str, body: bytes, headers: Any, status: int, data: list[bytes]) -> LLMCall | None:
    request = HttpRequest("0", 1, 1000, "POST", url, (), body, "httpx")
    response = HttpResponse("0", 2, 2000, 1, status, headers, "HTTP/1.1", "OK")
    chunks = [HttpChunk("0", 3 + i, 3000 + i, 1, piece) for i, piece in enumerate(data)]
    call = decode_exchange_strict(request, response, chunks, 9000 if data else None)
    assert call is None or isinstance(call, LLMCall)
    return call


@SETTINGS
@given(
    st.sampled_from(URLS),
    st.binary(max_size=200),
    HEADERS,
    STATUSES,
    st.lists(st.binary(max_size=100), max_size=6),
)
def test_arbitrary_bytes_never_raise(
    url: str, body: bytes, headers: Any, status: int, data: list[bytes]
) -> None:
    _decode(url, body, headers, status, data)


@SETTINGS
@given(st.sampled_from(sorted(TEMPLATES)), st.data())
def test_streams_of_misshapen_events_never_raise(url: str, data: st.DataObject) -> None:
    template = TEMPLATES[url]
    request = data.draw(mutated(template["request"]))
    events = data.draw(st.lists(st.one_of([mutated(e) for e in template["events"]]), max_size=8))
    pieces = [_stream_piece(url, event) for event in events]
    stream = (("content-type", STREAMS.get(url, "text/event-stream")),)
    _decode(url, json.dumps(request).encode(), stream, data.draw(STATUSES), pieces)


@SETTINGS
@given(st.sampled_from(sorted(TEMPLATES)), st.data())
def test_misshapen_bodies_never_raise(url: str, data: st.DataObject) -> None:
    template = TEMPLATES[url]
    request = data.draw(mutated(template["request"]))
    body = json.dumps(data.draw(mutated(template["body"]))).encode()
    headers = (("content-type", "application/json"),)
    _decode(url, json.dumps(request).encode(), headers, data.draw(STATUSES), [body])


def test_the_templates_themselves_decode() -> None:
    for url, template in TEMPLATES.items():
        request = json.dumps(template["request"]).encode()
        plain = (("content-type", "application/json"),)
        body = _decode(url, request, plain, 200, [json.dumps(template["body"]).encode()])
        assert body is not None and body.output_text == "x" and body.tool_calls
        events = [_stream_piece(url, e) for e in template["events"]]
        stream = (("content-type", STREAMS.get(url, "text/event-stream")),)
        streamed = _decode(url, request, stream, 200, events)
        assert streamed is not None and streamed.output_text.startswith("x") and streamed.tool_calls
