"""Google Gemini generateContent, driven by the real google-genai SDK, decoded and replayed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import types

import agentreplay
from agentreplay.demo.model_server import ModelServer, Reply, ToolCallSpec
from agentreplay.llm import LLMCall
from tests.llm.helpers import Serve, exchanges, record, record_calls, replay, show_json

WEATHER_ARGS = {"city": "Paris", "days": 2}
THINKING = "The user wants the weather, so I should look it up first."
REPLY = Reply(
    text="Let me look that up.",
    thinking=THINKING,
    tool_calls=[ToolCallSpec("get_weather", WEATHER_ARGS)],
    input_tokens=40,
    output_tokens=25,
    cached_tokens=8,
)
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
CONTENTS: Any = [
    types.Content(role="user", parts=[types.Part(text="What time is it?")]),
    types.Content(
        role="model",
        parts=[types.Part(function_call=types.FunctionCall(name="get_time", args={}))],
    ),
    types.Content(
        role="user",
        parts=[
            types.Part(
                function_response=types.FunctionResponse(
                    name="get_time", response={"time": "12:00"}
                )
            )
        ],
    ),
    types.Content(role="user", parts=[types.Part(text="And the weather in Paris?")]),
]
CONFIG = types.GenerateContentConfig(
    system_instruction="You are terse.",
    temperature=0.2,
    max_output_tokens=200,
    tools=[
        types.Tool(
            function_declarations=[
                types.FunctionDeclaration(
                    name="get_weather",
                    description="Weather for a city",
                    parameters_json_schema=WEATHER_SCHEMA,
                )
            ]
        )
    ],
    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
)


def gemini_client(url: str) -> genai.Client:
    options = types.HttpOptions(base_url=url, retry_options=types.HttpRetryOptions(attempts=1))
    return genai.Client(api_key="fake-key", http_options=options)


def _answer(response: types.GenerateContentResponse) -> dict[str, Any]:
    """What an agent keeps of one response: text, calls and token counts."""
    usage = response.usage_metadata
    assert usage is not None
    calls = [(call.name, call.args) for call in response.function_calls or []]
    return {"text": response.text, "calls": calls, "total": usage.total_token_count}


def _conversation(url: str) -> list[dict[str, Any]]:
    """One plain and one streamed call, as an agent makes them."""
    with gemini_client(url) as client:
        plain = client.models.generate_content(
            model="gemini-2.5-flash", contents=CONTENTS, config=CONFIG
        )
        pieces = [
            chunk.text or ""
            for chunk in client.models.generate_content_stream(
                model="gemini-2.5-flash", contents=CONTENTS, config=CONFIG
            )
        ]
    return [_answer(plain), {"streamed": "".join(pieces)}]


def _assert_weather_call(call: LLMCall, *, stream: bool) -> None:
    assert (call.provider, call.api, call.model, call.stream) == (
        "google",
        "generateContent",
        "gemini-2.5-flash",
        stream,
    )
    assert call.messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What time is it?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "get_time",
            "name": "get_time",
            "content": json.dumps({"time": "12:00"}),
        },
        {"role": "user", "content": "And the weather in Paris?"},
    ]
    assert call.tools == [
        {"name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_SCHEMA}
    ]
    assert call.params == {"temperature": 0.2, "maxOutputTokens": 200}
    assert (call.output_text, call.thinking) == ("Let me look that up.", THINKING)
    assert [(c.name, c.parsed) for c in call.tool_calls] == [("get_weather", WEATHER_ARGS)]
    assert call.finish_reason == "STOP"
    assert (call.input_tokens, call.output_tokens, call.cached_tokens) == (40, 25, 8)
    assert call.response_model == "gemini-2.5-flash"
    assert (call.status, call.error) == (200, None)


def test_generate_content_decodes_contents_tools_thoughts_and_usage(
    serve: Serve, path: Path
) -> None:
    server = serve(REPLY)

    def agent() -> None:
        with gemini_client(server.url) as client:
            client.models.generate_content(
                model="gemini-2.5-flash", contents=CONTENTS, config=CONFIG
            )

    [call] = record_calls(path, agent)
    _assert_weather_call(call, stream=False)
    assert call.ttft is not None and call.duration is not None and 0 < call.ttft <= call.duration


def test_stream_assembles_the_answer_from_its_events(serve: Serve, path: Path) -> None:
    server = serve(REPLY, chunk_delay=0.01)

    def agent() -> None:
        with gemini_client(server.url) as client:
            for _ in client.models.generate_content_stream(
                model="gemini-2.5-flash", contents=CONTENTS, config=CONFIG
            ):
                pass

    [exchange] = record(path, agent)
    assert exchange.request.url.endswith(":streamGenerateContent?alt=sse")
    assert exchange.body.count(b"data: ") > 5  # the text really came in pieces
    call = exchange.call()
    _assert_weather_call(call, stream=True)
    assert call.ttft is not None and 0 < call.ttft < call.duration  # type: ignore[operator]
    assert len(call.gaps) == len(exchange.chunks) - 1


# google-genai's async client subclasses aiohttp's ClientSession, which aiohttp warns about.
@pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")
def test_async_stream_is_decoded_like_the_sync_one(serve: Serve, path: Path) -> None:
    server = serve(REPLY)

    async def agent() -> None:
        async with gemini_client(server.url).aio as client:
            stream = await client.models.generate_content_stream(
                model="gemini-2.5-flash", contents=CONTENTS, config=CONFIG
            )
            async for _ in stream:
                pass

    [call] = record_calls(path, lambda: asyncio.run(agent()))
    _assert_weather_call(call, stream=True)


def test_an_error_answer_gives_its_message(serve: Serve, path: Path) -> None:
    server = serve(REPLY)
    server.fail_next(400, {"error": {"code": 400, "message": "API key not valid.", "status": "X"}})

    def agent() -> None:
        with gemini_client(server.url) as client, contextlib.suppress(genai.errors.ClientError):
            client.models.generate_content(model="gemini-2.5-flash", contents="Hi")

    [call] = record_calls(path, agent)
    assert (call.status, call.error, call.output_text) == (400, "API key not valid.", "")


def test_a_recorded_run_replays_twice_offline_with_the_same_answers_and_calls(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.cassette"
    with ModelServer(lambda request: REPLY, chunk_delay=0.01) as server:
        url = server.url
        with agentreplay.record(path):
            recorded = _conversation(url)
    assert recorded == [
        {"text": "Let me look that up.", "calls": [("get_weather", WEATHER_ARGS)], "total": 65},
        {"streamed": "Let me look that up."},
    ]
    recorded_calls = [exchange.call() for exchange in exchanges(path)]
    for _ in range(2):
        result, calls = replay(path, lambda: _conversation(url))
        assert result == recorded
        assert calls == recorded_calls
    steps = [step["llm"] for step in show_json(path)["steps"]]
    assert [(s["model"], s["input_tokens"], s["output_tokens"], s["stream"]) for s in steps] == [
        ("gemini-2.5-flash", 40, 25, False),
        ("gemini-2.5-flash", 40, 25, True),
    ]
    assert all(s["ttft"] > 0 for s in steps)
    assert all(s["cost"] > 0 for s in steps)  # priced from genai-prices' Google table


def test_an_override_is_sent_back_as_gemini_would_stream_it(serve: Serve, path: Path) -> None:
    server = serve(REPLY)
    url = server.url
    record(path, lambda: _conversation(url))
    with agentreplay.replay(path, overrides={2: "Sunny all week."}) as run:
        result = _conversation(url)
    assert result[1] == {"streamed": "Sunny all week."}
    assert run.result is not None and not run.result.reproduced  # a what-if, said so
