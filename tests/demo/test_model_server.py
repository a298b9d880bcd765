"""The fake model server, as seen by the real OpenAI and Anthropic SDKs."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from agentreplay.demo import model_server as ms
from agentreplay.demo.model_server import (
    ModelRequest,
    ModelServer,
    Reply,
    ToolCallSpec,
    echo_responder,
    random_responder,
)

TEXT = "The weather in Paris is sunny today, with a light breeze from the west."
WEATHER_ARGS = {"city": "Paris", "units": "celsius", "days": [1, 2]}
TIME_ARGS = {"zone": "Europe/Paris"}
TOOL_REPLY = Reply(
    text="Let me check.",
    tool_calls=[ToolCallSpec("get_weather", WEATHER_ARGS), ToolCallSpec("get_time", TIME_ARGS)],
)
THINKING_REPLY = Reply(
    text=TEXT,
    thinking="The user wants the weather, so I should look it up first.",
    tool_calls=[ToolCallSpec("get_weather", WEATHER_ARGS, id="toolu_fixed")],
)
CHAT_TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "units": {"enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["city", "units", "days"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {
                "type": "object",
                "properties": {"zone": {"type": "string"}, "exact": {"type": "boolean"}},
                "required": ["zone"],
            },
        },
    },
]
USER = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def _openai(server: ModelServer, max_retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=max_retries)


def _anthropic(server: ModelServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def _reply(reply: Reply) -> ms.Responder:
    return lambda request: reply


# OpenAI Chat Completions ------------------------------------------------------


def test_chat_completion_carries_scripted_text_and_parallel_tool_calls(
    model_server: ModelServer,
) -> None:
    model_server.responder = _reply(TOOL_REPLY)
    with _openai(model_server) as client:
        completion = client.chat.completions.create(model="gpt-test", messages=USER)  # type: ignore[arg-type]
    choice = completion.choices[0]
    assert completion.model == "gpt-test"
    assert choice.message.content == "Let me check."
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name) for c in calls] == [  # type: ignore[union-attr]
        ("call_1", "get_weather"),
        ("call_2", "get_time"),
    ]
    assert [json.loads(c.function.arguments) for c in calls] == [WEATHER_ARGS, TIME_ARGS]  # type: ignore[union-attr]
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_chat_stream_deltas_assemble_into_scripted_reply(model_server: ModelServer) -> None:
    model_server.responder = _reply(Reply(text=TEXT, tool_calls=TOOL_REPLY.tool_calls))
    with _openai(model_server) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-test",
                messages=USER,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    text_deltas = [d.content for d in deltas if d.content]
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    for call in (call for d in deltas for call in d.tool_calls or []):
        assert call.function is not None
        names[call.index] = names.get(call.index, "") + (call.function.name or "")
        arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")
    assert len(text_deltas) > 3 and "".join(text_deltas) == TEXT
    assert names == {0: "get_weather", 1: "get_time"}
    assert {i: json.loads(a) for i, a in arguments.items()} == {0: WEATHER_ARGS, 1: TIME_ARGS}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_chat_stream_helper_builds_the_final_completion(model_server: ModelServer) -> None:
    model_server.responder = _reply(TOOL_REPLY)
    with _openai(model_server) as client:
        with client.chat.completions.stream(model="gpt-test", messages=USER) as stream:  # type: ignore[arg-type]
            final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Let me check."
    calls = message.tool_calls or []
    assert [json.loads(c.function.arguments) for c in calls] == [WEATHER_ARGS, TIME_ARGS]


# OpenAI Responses -------------------------------------------------------------


def test_responses_create_exposes_output_text(model_server: ModelServer) -> None:
    model_server.responder = _reply(Reply(text=TEXT, cached_tokens=3))
    with _openai(model_server) as client:
        response = client.responses.create(model="gpt-test", input="Weather?")
    assert response.output_text == TEXT
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 3


def test_responses_stream_text_deltas_join_into_text(model_server: ModelServer) -> None:
    model_server.responder = _reply(Reply(text=TEXT, tool_calls=TOOL_REPLY.tool_calls[:1]))
    with _openai(model_server) as client:
        events = list(client.responses.create(model="gpt-test", input="Weather?", stream=True))
    text_deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    arguments = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(text_deltas) > 3 and "".join(text_deltas) == TEXT
    assert len(arguments) > 1 and json.loads("".join(arguments)) == WEATHER_ARGS
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"


def test_responses_stream_helper_builds_the_final_response(model_server: ModelServer) -> None:
    model_server.responder = _reply(TOOL_REPLY)
    with _openai(model_server) as client:
        with client.responses.stream(model="gpt-test", input="Weather?") as stream:
            final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert final.output_text == "Let me check."
    assert [(c.call_id, json.loads(c.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("call_1", WEATHER_ARGS),
        ("call_2", TIME_ARGS),
    ]


# Anthropic Messages -----------------------------------------------------------


def test_messages_create_returns_thinking_text_and_tool_use(model_server: ModelServer) -> None:
    model_server.responder = _reply(THINKING_REPLY)
    with _anthropic(model_server) as client:
        message = client.messages.create(model="claude-test", max_tokens=100, messages=USER)  # type: ignore[arg-type]
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use"]
    thinking, text, tool_use = message.content
    assert thinking.thinking == THINKING_REPLY.thinking  # type: ignore[union-attr]
    assert text.text == TEXT  # type: ignore[union-attr]
    assert (tool_use.id, tool_use.input) == ("toolu_fixed", WEATHER_ARGS)  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use"


def test_messages_stream_final_message_matches_the_script(model_server: ModelServer) -> None:
    model_server.responder = _reply(THINKING_REPLY)
    with _anthropic(model_server) as client:
        with client.messages.stream(model="claude-test", max_tokens=100, messages=USER) as stream:  # type: ignore[arg-type]
            text = "".join(stream.text_stream)
            message = stream.get_final_message()
    thinking, text_block, tool_use = message.content
    assert text == TEXT
    assert thinking.type == "thinking" and thinking.thinking == THINKING_REPLY.thinking
    assert thinking.signature
    assert text_block.type == "text" and text_block.text == TEXT
    assert tool_use.type == "tool_use" and tool_use.input == WEATHER_ARGS
    assert message.stop_reason == "tool_use" and message.usage.output_tokens > 1


# Async clients ----------------------------------------------------------------


def test_async_openai_streams_chat_completions(model_server: ModelServer) -> None:
    async def run() -> str:
        url = model_server.url + "/v1"
        async with openai.AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0) as client:
            stream = await client.chat.completions.create(
                model="gpt-test",
                messages=USER,  # type: ignore[arg-type]
                stream=True,
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert asyncio.run(run()) == "echo: What is the weather in Paris?"


def test_async_anthropic_streams_messages(model_server: ModelServer) -> None:
    async def run() -> str:
        async with anthropic.AsyncAnthropic(
            base_url=model_server.url, api_key="sk-ant-test", max_retries=0
        ) as client:
            async with client.messages.stream(
                model="claude-test",
                max_tokens=100,
                messages=USER,  # type: ignore[arg-type]
            ) as stream:
                message = await stream.get_final_message()
        return message.content[0].text  # type: ignore[union-attr]

    assert asyncio.run(run()) == "echo: What is the weather in Paris?"


# Server behaviour -------------------------------------------------------------


def test_fail_next_makes_the_sdk_retry_then_succeed(model_server: ModelServer) -> None:
    model_server.fail_next(429, {"error": {"message": "slow down", "type": "rate_limit"}})
    with _openai(model_server, max_retries=1) as client:
        completion = client.chat.completions.create(model="gpt-test", messages=USER)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "echo: What is the weather in Paris?"
    assert len(model_server.requests) == 2
    assert model_server.requests[1].headers["x-stainless-retry-count"] == "1"


def test_fail_next_surfaces_as_the_sdk_error_without_retries(model_server: ModelServer) -> None:
    model_server.fail_next(500, {"error": {"message": "boom", "type": "server_error"}}, times=2)
    with _openai(model_server) as client, pytest.raises(openai.InternalServerError, match="boom"):
        client.chat.completions.create(model="gpt-test", messages=USER)  # type: ignore[arg-type]


def test_first_chunk_gate_holds_the_stream_until_the_consumer_opens_it(
    model_server: ModelServer,
) -> None:
    model_server.first_chunk_gate = gate = threading.Event()
    with _openai(model_server) as client:
        stream = client.chat.completions.create(model="gpt-test", messages=USER, stream=True)  # type: ignore[arg-type]
        with stream:
            first = next(iter(stream))
            gate.set()
            rest = list(stream)
    assert first.choices[0].delta.role == "assistant" and rest
    assert model_server.gate_opened_in_time


def test_first_chunk_gate_left_shut_times_out(
    model_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ms, "GATE_TIMEOUT", 0.1)
    model_server.first_chunk_gate = threading.Event()
    with _openai(model_server) as client:
        stream = client.chat.completions.create(model="gpt-test", messages=USER, stream=True)  # type: ignore[arg-type]
        assert list(stream)
    assert not model_server.gate_opened_in_time



def test_chunk_delay_spaces_out_streamed_events(model_server: ModelServer) -> None:
    model_server.chunk_delay = 0.02
    with _openai(model_server) as client:
        started = time.perf_counter()
        chunks = list(client.chat.completions.create(model="gpt-test", messages=USER, stream=True))  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
    assert elapsed >= 0.02 * len(chunks)


def test_every_request_is_kept_in_order(model_server: ModelServer) -> None:
    with _openai(model_server) as client, _anthropic(model_server) as claude:
        client.chat.completions.create(model="gpt-test", messages=USER)  # type: ignore[arg-type]
        list(client.responses.create(model="gpt-test", input="hi", stream=True))
        claude.messages.create(model="claude-test", max_tokens=10, messages=USER)  # type: ignore[arg-type]
    requests = model_server.requests
    assert [(r.api, r.path, r.stream) for r in requests] == [
        ("chat", "/v1/chat/completions", False),
        ("responses", "/v1/responses", True),
        ("messages", "/v1/messages", False),
    ]
    assert requests[0].body["messages"] == USER
    assert requests[2].headers["x-api-key"] == "sk-ant-test"


def test_paths_without_v1_are_served_and_unknown_paths_get_404(
    model_server: ModelServer,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", model_server.port, timeout=5)
    try:
        connection.request("POST", "/chat/completions", body=json.dumps({"messages": USER}))
        served = connection.getresponse()
        served_body = json.loads(served.read())
        connection.request("GET", "/v1/models")
        missing = connection.getresponse()
        missing_body = json.loads(missing.read())
    finally:
        connection.close()
    assert served.status == 200 and served.getheader("x-request-id")
    assert served_body["choices"][0]["message"]["content"] == "echo: What is the weather in Paris?"
    assert missing.status == 404 and missing_body["error"]["type"] == "not_found_error"


def test_stop_ends_kept_alive_connections_promptly() -> None:
    server = ModelServer().start()
    with _openai(server) as client:
        client.chat.completions.create(model="gpt-test", messages=USER)  # type: ignore[arg-type]
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 1.0
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018


# Responders -------------------------------------------------------------------


def _request(api: str, body: dict[str, Any]) -> ModelRequest:
    return ModelRequest(api=api, path=f"/v1/{api}", headers={}, body=body, stream=False)


def test_echo_responder_echoes_the_last_user_text_of_each_api() -> None:
    parts = [{"type": "text", "text": "first"}, {"type": "image"}, {"type": "text", "text": "!"}]
    messages = [{"role": "user", "content": "old"}, {"role": "user", "content": parts}]
    responses_input = [{"role": "user", "content": [{"type": "input_text", "text": "new"}]}]
    assert echo_responder(_request("chat", {"messages": messages})).text == "echo: first!"
    assert echo_responder(_request("messages", {"messages": messages})).text == "echo: first!"
    assert echo_responder(_request("responses", {"input": "plain"})).text == "echo: plain"
    assert echo_responder(_request("responses", {"input": responses_input})).text == "echo: new"


def test_random_responder_replies_differ_across_seeds_and_repeat_with_one() -> None:
    request = _request("chat", {"messages": USER})
    by_seed = {seed: [random_responder(seed)(request).text for _ in range(3)] for seed in range(5)}
    assert len({tuple(texts) for texts in by_seed.values()}) == 5
    assert [random_responder(3)(request).text for _ in range(1)] == by_seed[3][:1]
    assert all(text for texts in by_seed.values() for text in texts)


@pytest.mark.parametrize(
    ("api", "tools"),
    [
        ("chat", CHAT_TOOLS),
        ("responses", [{"type": "function", **t["function"]} for t in CHAT_TOOLS]),
        (
            "messages",
            [{"name": t["function"]["name"], "input_schema": t["function"]["parameters"]}
             for t in CHAT_TOOLS],
        ),
    ],
)
def test_random_responder_calls_only_offered_tools_with_valid_arguments(
    api: str, tools: list[dict[str, Any]]
) -> None:
    respond = random_responder(seed=7)
    calls = [c for _ in range(40) for c in respond(_request(api, {"tools": tools})).tool_calls]
    assert calls
    assert {c.name for c in calls} <= {"get_weather", "get_time"}
    for call in calls:
        if call.name == "get_weather":
            assert isinstance(call.arguments["city"], str)
            assert call.arguments["units"] in ("celsius", "fahrenheit")
            assert all(isinstance(day, int) for day in call.arguments["days"])
        else:
            assert isinstance(call.arguments["zone"], str)
            assert isinstance(call.arguments.get("exact", True), bool)


def test_random_replies_parse_through_the_sdks() -> None:
    with ModelServer(random_responder(seed=11)) as server, _openai(server) as client:
        for _ in range(6):
            stream = client.chat.completions.create(
                model="gpt-test",
                messages=USER,  # type: ignore[arg-type]
                tools=CHAT_TOOLS,
                stream=True,
            )
            with stream:
                assert [chunk.choices[0].finish_reason for chunk in stream][-1] in (
                    "stop",
                    "tool_calls",
                )
