"""OpenAI Chat Completions, recorded from the real SDK and decoded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

import agentreplay
from agentreplay.demo.model_server import Reply, ToolCallSpec
from tests.llm.helpers import Serve, exchanges, openai_client, record, record_calls, replay

WEATHER_ARGS = {"city": "Paris", "units": "celsius", "days": [1, 2]}
TIME_ARGS = {"zone": "Europe/Paris"}
TOOL_REPLY = Reply(
    text="Let me check.",
    tool_calls=[ToolCallSpec("get_weather", WEATHER_ARGS), ToolCallSpec("get_time", TIME_ARGS)],
    input_tokens=120,
    output_tokens=30,
    cached_tokens=64,
)
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": WEATHER_SCHEMA,
        },
    },
    {"type": "function", "function": {"name": "get_time"}},
]
MESSAGES: Any = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "get_time", "arguments": "{}"},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_0", "content": "12:00"},
]


def test_completion_decodes_what_was_sent_and_the_parallel_tool_calls(
    serve: Serve, path: Path
) -> None:
    server = serve(TOOL_REPLY)

    def agent() -> None:
        with openai_client(server) as client:
            client.chat.completions.create(
                model="gpt-test",
                messages=MESSAGES,
                tools=TOOLS,
                tool_choice="auto",
                temperature=0.2,
                max_tokens=50,
                seed=7,
                stop=["END"],
            )

    [call] = record_calls(path, agent)
    assert (call.provider, call.api, call.model, call.response_model) == (
        "openai-compatible",
        "chat.completions",
        "gpt-test",
        "gpt-test",
    )
    assert call.messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris?"},
        {**MESSAGES[2], "content": ""},
        MESSAGES[3],
    ]
    assert call.tools == [
        {"name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_SCHEMA},
        {"name": "get_time", "description": "", "parameters": {}},
    ]
    assert call.params == {
        "max_tokens": 50,
        "seed": 7,
        "stop": ["END"],
        "temperature": 0.2,
        "tool_choice": "auto",
    }
    assert call.stream is False
    assert call.output_text == "Let me check."
    assert [(c.name, c.parsed) for c in call.tool_calls] == [
        ("get_weather", WEATHER_ARGS),
        ("get_time", TIME_ARGS),
    ]
    assert all(c.id.startswith("call_") for c in call.tool_calls)
    assert call.finish_reason == "tool_calls"
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (120, 30, 64)
    assert (call.status, call.error, call.thinking) == (200, None, "")


def test_stream_assembles_parallel_tool_calls_from_their_deltas(serve: Serve, path: Path) -> None:
    server = serve(TOOL_REPLY)

    def agent() -> None:
        with openai_client(server) as client:
            stream = client.chat.completions.create(
                model="gpt-test",
                messages=MESSAGES,
                tools=TOOLS,
                stream=True,
                stream_options={"include_usage": True},
            )
            for _ in stream:
                pass

    [exchange] = record(path, agent)
    call = exchange.call()
    # The arguments really did arrive in pieces.
    assert exchange.body.count(b'"arguments": "') > 2 * len(call.tool_calls)
    assert call.stream is True
    assert call.output_text == "Let me check."
    assert [c.name for c in call.tool_calls] == ["get_weather", "get_time"]
    assert [json.loads(c.arguments) for c in call.tool_calls] == [WEATHER_ARGS, TIME_ARGS]
    assert [c.parsed for c in call.tool_calls] == [WEATHER_ARGS, TIME_ARGS]
    assert len({c.id for c in call.tool_calls}) == 2
    assert call.finish_reason == "tool_calls"
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (120, 30, 64)
    assert call.params == {}


def test_stream_without_usage_leaves_the_token_counts_unknown(serve: Serve, path: Path) -> None:
    server = serve(Reply(text="The weather in Paris is sunny today."))

    def agent() -> None:
        with openai_client(server) as client:
            for _ in client.chat.completions.create(
                model="gpt-test", messages=MESSAGES[:2], stream=True
            ):
                pass

    [call] = record_calls(path, agent)
    assert call.output_text == "The weather in Paris is sunny today."
    assert call.tool_calls == []
    assert call.finish_reason == "stop"
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (None, None, None)


@pytest.mark.parametrize("prefix", ["/api/v1", "/openai/v1", ""])
def test_an_openai_compatible_server_under_another_prefix_decodes_as_chat_completions(
    serve: Serve, tmp_path: Path, prefix: str
) -> None:
    # OpenRouter serves /api/v1, Ollama and vLLM /v1, a LiteLLM proxy the root.
    server = serve(TOOL_REPLY)
    base_url = server.url + prefix
    path = tmp_path / "run.cassette"

    def agent() -> list[Any]:
        client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
        with client:
            plain = client.chat.completions.create(model="llama3.1:8b", messages=MESSAGES[:2])
            stream = client.chat.completions.create(
                model="llama3.1:8b",
                messages=MESSAGES[:2],
                tools=TOOLS,
                stream=True,
                stream_options={"include_usage": True},
            )
            return [plain.choices[0].message.content, [chunk.usage for chunk in stream][-1]]

    with agentreplay.record(path):
        recorded = agent()
    calls = [exchange.call() for exchange in exchanges(path)]
    assert [urlsplit(c.request.url).path for c in exchanges(path)] == [
        f"{prefix}/chat/completions"
    ] * 2
    for call, stream in zip(calls, (False, True), strict=True):
        assert (call.provider, call.api, call.model, call.stream) == (
            "openai-compatible",
            "chat.completions",
            "llama3.1:8b",
            stream,
        )
        assert call.messages == MESSAGES[:2]
        assert call.output_text == "Let me check."
        assert [c.name for c in call.tool_calls] == ["get_weather", "get_time"]
        assert (call.input_tokens, call.output_tokens) == (120, 30)
    assert calls[1].tools[0]["name"] == "get_weather" and calls[1].ttft is not None
    server.stop()
    result, replayed = replay(path, agent)
    assert (result, replayed) == (recorded, calls)
