"""Amazon Bedrock Converse, driven by the real boto3 SDK, decoded and replayed."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

import agentreplay
from agentreplay.demo.model_server import ModelServer, Reply, ToolCallSpec
from agentreplay.llm import LLMCall
from tests.llm.helpers import Exchange, Serve, exchanges, record, record_calls, replay, show_json

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
WEATHER_ARGS = {"city": "Paris", "days": 2}
THINKING = "The user wants the weather, so I should look it up first."
REPLY = Reply(
    text="Let me look that up.",
    thinking=THINKING,
    tool_calls=[ToolCallSpec("get_weather", WEATHER_ARGS, id="tooluse_weather")],
    input_tokens=40,
    output_tokens=25,
    cached_tokens=8,
)
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
MESSAGES: Any = [
    {"role": "user", "content": [{"text": "What time is it?"}]},
    {
        "role": "assistant",
        "content": [{"toolUse": {"toolUseId": "tooluse_0", "name": "get_time", "input": {}}}],
    },
    {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "tooluse_0", "content": [{"text": "12:00"}]}},
            {"text": "And the weather in Paris?"},
        ],
    },
]
ASK: Any = {
    "modelId": MODEL,
    "system": [{"text": "You are terse."}],
    "messages": MESSAGES,
    "inferenceConfig": {"maxTokens": 200, "temperature": 0.2},
    "toolConfig": {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "inputSchema": {"json": WEATHER_SCHEMA},
                }
            }
        ],
        "toolChoice": {"auto": {}},
    },
}


def bedrock_client(url: str) -> contextlib.closing[Any]:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="fake-secret",
        config=Config(retries={"max_attempts": 1}),
    )
    return contextlib.closing(client)


def _streamed(client: Any) -> dict[str, Any]:
    """The pieces of a ConverseStream answer, as an agent puts them together."""
    text, tool_input, usage = [], [], None
    for event in client.converse_stream(**ASK)["stream"]:
        delta = event.get("contentBlockDelta", {}).get("delta", {})
        text.append(delta.get("text", ""))
        tool_input.append(delta.get("toolUse", {}).get("input", ""))
        usage = event.get("metadata", {}).get("usage", usage)
    return {"text": "".join(text), "input": json.loads("".join(tool_input)), "usage": usage}


def _conversation(url: str) -> list[Any]:
    with bedrock_client(url) as client:
        answer = client.converse(**ASK)
        return [answer["output"], answer["usage"], answer["stopReason"], _streamed(client)]


def _converse(url: str) -> None:
    with bedrock_client(url) as client:
        client.converse(**ASK)


def _converse_stream(url: str) -> None:
    with bedrock_client(url) as client:
        _streamed(client)


def _assert_weather_call(call: LLMCall, *, stream: bool) -> None:
    assert (call.provider, call.api, call.model, call.stream) == (
        "bedrock",
        "converse",
        MODEL,
        stream,
    )
    time_call = {"name": "get_time", "arguments": "{}"}
    assert call.messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What time is it?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "tooluse_0", "type": "function", "function": time_call}],
        },
        {"role": "tool", "tool_call_id": "tooluse_0", "content": "12:00"},
        {"role": "user", "content": "And the weather in Paris?"},
    ]
    assert call.tools == [
        {"name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_SCHEMA}
    ]
    assert call.params == {"maxTokens": 200, "temperature": 0.2, "toolChoice": {"auto": {}}}
    assert (call.output_text, call.thinking) == ("Let me look that up.", THINKING)
    assert [(c.id, c.name, c.parsed) for c in call.tool_calls] == [
        ("tooluse_weather", "get_weather", WEATHER_ARGS)
    ]
    assert call.finish_reason == "tool_use"
    # Bedrock counts cache reads apart from inputTokens: they are added back.
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (48, 25, 8)
    assert (call.status, call.error) == (200, None)


def test_converse_decodes_messages_tool_results_reasoning_and_usage(
    serve: Serve, path: Path
) -> None:
    server = serve(REPLY)
    [call] = record_calls(path, lambda: _converse(server.url))
    _assert_weather_call(call, stream=False)
    assert call.ttft is not None and call.duration is not None and 0 < call.ttft <= call.duration


def test_converse_stream_reads_the_event_stream_messages(serve: Serve, path: Path) -> None:
    server = serve(REPLY, chunk_delay=0.01)
    [exchange] = record(path, lambda: _converse_stream(server.url))
    assert exchange.request.url.endswith("/converse-stream")
    assert exchange.response is not None
    assert ("content-type", "application/vnd.amazon.eventstream") in exchange.response.headers
    assert exchange.body.count(b"contentBlockDelta") > 5  # the answer really came in pieces
    call = exchange.call()
    _assert_weather_call(call, stream=True)
    assert call.ttft is not None and 0 < call.ttft < call.duration  # type: ignore[operator]


def test_a_stream_cut_into_odd_chunks_decodes_the_same(serve: Serve, path: Path) -> None:
    server = serve(REPLY)
    [exchange] = record(path, lambda: _converse_stream(server.url))
    whole, first = exchange.body, exchange.chunks[0]
    for size in (1, 7, 100):
        pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
        chunks = [
            dataclasses.replace(first, seq=first.seq + i, at=first.at + i, data=data)
            for i, data in enumerate(pieces)
        ]
        cut = Exchange(exchange.request, exchange.response, chunks, exchange.end_at)
        _assert_weather_call(cut.call(), stream=True)


def test_an_error_answer_gives_its_message(serve: Serve, path: Path) -> None:
    server = serve(REPLY)
    server.fail_next(
        400,
        {"message": "The provided model identifier is invalid."},
        headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/"},
    )

    def agent() -> None:
        with contextlib.suppress(botocore.exceptions.ClientError):
            _converse(server.url)

    [call] = record_calls(path, agent)
    assert (call.status, call.error) == (400, "The provided model identifier is invalid.")


def test_a_recorded_run_replays_twice_offline_with_the_same_answers_and_calls(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.cassette"
    with ModelServer(lambda request: REPLY, chunk_delay=0.01) as server:
        url = server.url
        with agentreplay.record(path):
            recorded = _conversation(url)
    assert recorded[2:] == [
        "tool_use",
        {
            "text": "Let me look that up.",
            "input": WEATHER_ARGS,
            "usage": recorded[1],
        },
    ]
    recorded_calls = [exchange.call() for exchange in exchanges(path)]
    for _ in range(2):
        result, calls = replay(path, lambda: _conversation(url))
        assert result == recorded
        assert calls == recorded_calls
    steps = [step["llm"] for step in show_json(path)["steps"]]
    assert [(s["model"], s["input_tokens"], s["output_tokens"], s["stream"]) for s in steps] == [
        (MODEL, 48, 25, False),
        (MODEL, 48, 25, True),
    ]
    assert all(s["ttft"] > 0 for s in steps)
    assert all(s["cost"] > 0 for s in steps)  # priced from genai-prices' AWS table


def test_an_override_is_sent_back_as_bedrock_would_stream_it(serve: Serve, path: Path) -> None:
    server = serve(REPLY)
    url = server.url
    record(path, lambda: _conversation(url))
    answer = {"content": "Checking.", "tool_calls": [{"name": "get_weather", "arguments": {}}]}
    with agentreplay.replay(path, overrides={2: answer}) as run:
        result = _conversation(url)
    assert result[3]["text"] == "Checking." and result[3]["input"] == {}
    assert run.result is not None and "what-if" in run.result.summary
