"""OpenAI Responses, recorded from the real SDK and decoded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from agentreplay.demo.model_server import Reply, ToolCallSpec
from tests.llm.helpers import Serve, openai_client, record, record_calls

WEATHER_ARGS = {"city": "Paris", "days": [1, 2]}
TIME_ARGS = {"zone": "Europe/Paris"}
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS: Any = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": WEATHER_SCHEMA,
        "strict": False,
    },
    {"type": "web_search"},
]
INPUT: Any = [
    {"role": "user", "content": "Weather in Paris?"},
    {"type": "function_call", "call_id": "call_a", "name": "get_time", "arguments": "{}"},
    {"type": "function_call", "call_id": "call_b", "name": "get_date", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "call_a", "output": "12:00"},
]


def test_stream_decodes_instructions_input_items_and_tool_calls(serve: Serve, path: Path) -> None:
    reply = Reply(
        text="Checking both.",
        tool_calls=[ToolCallSpec("get_weather", WEATHER_ARGS), ToolCallSpec("get_time", TIME_ARGS)],
        input_tokens=200,
        output_tokens=40,
        cached_tokens=128,
    )
    server = serve(reply)

    def agent() -> None:
        with openai_client(server) as client:
            stream = client.responses.create(
                model="gpt-test",
                instructions="You are terse.",
                input=INPUT,
                tools=TOOLS,
                tool_choice="auto",
                temperature=0.5,
                max_output_tokens=300,
                stream=True,
            )
            for _ in stream:
                pass

    [exchange] = record(path, agent)
    call = exchange.call()
    assert exchange.body.count(b"response.function_call_arguments.delta") > 2
    assert (call.api, call.model, call.stream) == ("responses", "gpt-test", True)
    assert call.messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_date", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "12:00"},
    ]
    assert call.tools == [
        {"name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_SCHEMA},
        {"name": "web_search", "description": "", "parameters": {}},
    ]
    assert call.params == {"max_output_tokens": 300, "temperature": 0.5, "tool_choice": "auto"}
    assert call.output_text == "Checking both."
    assert [(c.name, c.parsed) for c in call.tool_calls] == [
        ("get_weather", WEATHER_ARGS),
        ("get_time", TIME_ARGS),
    ]
    assert all(c.id.startswith("call_") for c in call.tool_calls)
    assert call.finish_reason == "completed"
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (200, 40, 128)
    assert call.ttft is not None and call.duration is not None
    assert 0 < call.ttft <= call.duration


def test_stream_cut_before_completion_keeps_the_deltas(serve: Serve, path: Path) -> None:
    server = serve(Reply(text="one two three four five six", tool_calls=[ToolCallSpec("f", {})]))

    def agent() -> None:
        with openai_client(server) as client:
            for _ in client.responses.create(model="gpt-test", input="hi", stream=True):
                pass

    [exchange] = record(path, agent)
    last = next(
        i for i, c in enumerate(exchange.chunks) if b"function_call_arguments.done" in c.data
    )
    exchange.chunks = exchange.chunks[:last]
    exchange.end_at = None
    call = exchange.call()
    assert call.output_text == "one two three four five six"
    assert [(c.name, c.parsed) for c in call.tool_calls] == [("f", {})]
    assert call.finish_reason == "in_progress"
    assert call.input_tokens is None


def test_non_streamed_response_with_string_input(serve: Serve, path: Path) -> None:
    server = serve(Reply(text="Sunny.", output_tokens=2, input_tokens=9))

    def agent() -> None:
        with openai_client(server) as client:
            client.responses.create(model="gpt-test", input="Weather in Paris?", top_p=0.9)

    [call] = record_calls(path, agent)
    assert call.messages == [{"role": "user", "content": "Weather in Paris?"}]
    assert call.stream is False
    assert call.params == {"top_p": 0.9}
    assert (call.output_text, call.tool_calls, call.finish_reason) == ("Sunny.", [], "completed")
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (9, 2, 0)


def test_retrieving_a_stored_response_is_not_a_call(serve: Serve, path: Path) -> None:
    server = serve(Reply(text="unused"))

    def agent() -> None:
        with openai_client(server) as client, pytest.raises(openai.NotFoundError):
            client.responses.retrieve("resp_1")

    [exchange] = record(path, agent)
    assert exchange.request.method == "GET"
    assert exchange.decode() is None
