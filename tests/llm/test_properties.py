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

CHAT = "http://127.0.0.1:8000/v1/chat/completions"
RESPONSES = "https://api.openai.com/v1/responses"
MESSAGES = "https://api.anthropic.com/v1/messages"
URLS = [CHAT, RESPONSES, MESSAGES, "http://127.0.0.1:8000/v1/embeddings"]
HEADERS = st.lists(
    st.sampled_from(
        [
            ("content-type", "text/event-stream"),
            ("content-type", "application/json"),
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
}
CALL = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
ITEMS = [
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "x"}]},
    {"type": "reasoning", "summary": [{"type": "summary_text", "text": "t"}], "content": []},
    {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "c", "output": "o"},
]
RESPONSE = {"model": "m", "status": "completed", "error": {"message": "e"}, "usage": USAGE}
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
    pieces = [f"data: {json.dumps(event)}\n\n".encode() for event in events]
    sse = (("content-type", "text/event-stream"),)
    _decode(url, json.dumps(request).encode(), sse, data.draw(STATUSES), pieces)


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
        events = [f"data: {json.dumps(e)}\n\n".encode() for e in template["events"]]
        sse = (("content-type", "text/event-stream"),)
        streamed = _decode(url, request, sse, 200, events)
        assert streamed is not None and streamed.output_text.startswith("x") and streamed.tool_calls
