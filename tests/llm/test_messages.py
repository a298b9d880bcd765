"""Anthropic Messages, recorded from the real SDK and decoded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentreplay.demo.model_server import Reply, ToolCallSpec
from tests.llm.helpers import Serve, anthropic_client, record, record_calls

WEATHER_ARGS = {"city": "Paris", "units": "celsius", "days": [1, 2]}
TIME_ARGS = {"zone": "Europe/Paris"}
THINKING = "The user wants the weather, so I should look it up first."
REPLY = Reply(
    text="Let me look that up.",
    thinking=THINKING,
    tool_calls=[ToolCallSpec("get_weather", WEATHER_ARGS), ToolCallSpec("get_time", TIME_ARGS)],
    input_tokens=50,
    output_tokens=70,
    cached_tokens=1000,
)
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS: Any = [
    {"name": "get_weather", "description": "Weather for a city", "input_schema": WEATHER_SCHEMA},
    {"name": "get_time", "input_schema": {"type": "object"}},
]
MESSAGES: Any = [
    {"role": "user", "content": "What time is it?"},
    {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "toolu_0", "name": "get_time", "input": {}}],
    },
    {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_0", "content": "12:00"}],
    },
]


def test_stream_decodes_thinking_and_tool_use_input_from_json_deltas(
    serve: Serve, path: Path
) -> None:
    server = serve(REPLY)

    def agent() -> None:
        with anthropic_client(server) as client:
            stream = client.messages.create(
                model="claude-test",
                system="You are terse.",
                messages=MESSAGES,
                tools=TOOLS,
                tool_choice={"type": "auto"},
                max_tokens=2048,
                thinking={"type": "enabled", "budget_tokens": 1024},
                output_config={"effort": "high"},
                # anthropic 2.x dropped the argument; the API and older clients still send it.
                extra_body={"temperature": 1.0},
                stream=True,
            )
            for _ in stream:
                pass

    [exchange] = record(path, agent)
    call = exchange.call()
    assert exchange.body.count(b"input_json_delta") > 2 * len(call.tool_calls)
    assert (call.provider, call.api, call.model, call.stream) == (
        "anthropic",
        "messages",
        "claude-test",
        True,
    )
    assert call.messages == [{"role": "system", "content": "You are terse."}, *MESSAGES]
    assert call.tools == [
        {"name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_SCHEMA},
        {"name": "get_time", "description": "", "parameters": {"type": "object"}},
    ]
    assert call.params == {
        "max_tokens": 2048,
        "temperature": 1.0,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "output_config": {"effort": "high"},
        "tool_choice": {"type": "auto"},
    }
    assert call.thinking == THINKING
    assert call.output_text == "Let me look that up."
    assert [c.name for c in call.tool_calls] == ["get_weather", "get_time"]
    assert [json.loads(c.arguments) for c in call.tool_calls] == [WEATHER_ARGS, TIME_ARGS]
    assert all(c.id.startswith("toolu_") for c in call.tool_calls)
    assert call.finish_reason == "tool_use"
    # Cache reads are reported apart by Anthropic and counted back into the input.
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (1050, 70, 1000)


def test_ttft_is_the_first_thinking_delta_not_the_message_start(serve: Serve, path: Path) -> None:
    server = serve(REPLY, chunk_delay=0.01)

    def agent() -> None:
        with (
            anthropic_client(server) as client,
            client.messages.stream(
                model="claude-test", max_tokens=100, messages=MESSAGES[:1]
            ) as stream,
        ):
            stream.get_final_message()

    [exchange] = record(path, agent)
    call = exchange.call()
    first = next(c for c in exchange.chunks if b'"thinking_delta"' in c.data)
    assert exchange.chunks.index(first) >= 3  # message_start, ping, content_block_start
    assert call.ttft == (first.at - exchange.request.at) / 1e9


def test_message_decodes_system_blocks_tool_use_and_usage(serve: Serve, path: Path) -> None:
    server = serve(REPLY)
    system: Any = [{"type": "text", "text": "You are terse."}]

    def agent() -> None:
        with anthropic_client(server) as client:
            client.messages.create(
                model="claude-test",
                system=system,
                messages=MESSAGES,
                tools=TOOLS,
                max_tokens=100,
                stop_sequences=["END"],
            )

    [call] = record_calls(path, agent)
    assert call.messages[0] == {"role": "system", "content": system}
    assert call.messages[1:] == MESSAGES
    assert call.params == {"max_tokens": 100, "stop_sequences": ["END"]}
    assert call.stream is False
    assert (call.thinking, call.output_text) == (THINKING, "Let me look that up.")
    assert [(c.name, c.parsed) for c in call.tool_calls] == [
        ("get_weather", WEATHER_ARGS),
        ("get_time", TIME_ARGS),
    ]
    assert call.tool_calls[0].arguments == json.dumps(WEATHER_ARGS)
    assert call.finish_reason == "tool_use"
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (1050, 70, 1000)
    assert call.ttft is not None and call.duration is not None and call.ttft <= call.duration


def test_tool_called_without_input_gets_empty_object_arguments(serve: Serve, path: Path) -> None:
    server = serve(Reply(tool_calls=[ToolCallSpec("get_time", {})]))

    def agent() -> None:
        with anthropic_client(server) as client:
            for _ in client.messages.create(
                model="claude-test", max_tokens=100, messages=MESSAGES[:1], stream=True
            ):
                pass

    [exchange] = record(path, agent)
    # The API sends no input_json_delta at all for an empty input; the fake server sends "{}".
    exchange.chunks = [c for c in exchange.chunks if b"input_json_delta" not in c.data]
    call = exchange.call()
    assert [(c.name, c.arguments, c.parsed) for c in call.tool_calls] == [("get_time", "{}", {})]
