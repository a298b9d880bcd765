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
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "units": {"enum": ["celsius", "fahrenheit"]},
        "days": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["city", "units", "days"],
}
TIME_SCHEMA = {
    "type": "object",
    "properties": {"zone": {"type": "string"}, "exact": {"type": "boolean"}},
    "required": ["zone"],
}
SCHEMAS = {"get_weather": WEATHER_SCHEMA, "get_time": TIME_SCHEMA}
CHAT_TOOLS: Any = [
    {"type": "function", "function": {"name": name, "parameters": schema}}
    for name, schema in SCHEMAS.items()
]
USER: Any = [{"role": "user", "content": "What is the weather in Paris?"}]
ECHO = "echo: What is the weather in Paris?"


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def oai(model_server: ModelServer) -> Iterator[openai.OpenAI]:
    with _openai(model_server) as client:
        yield client


@pytest.fixture
def claude(model_server: ModelServer) -> Iterator[anthropic.Anthropic]:
    url = model_server.url
    with anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0) as client:
        yield client


def _openai(server: ModelServer, max_retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=max_retries)


def _always(reply: Reply) -> ms.Responder:
    return lambda request: reply


# OpenAI Chat Completions ------------------------------------------------------


def test_chat_completion_carries_scripted_text_and_parallel_tool_calls(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.responder = _always(TOOL_REPLY)
    completion = oai.chat.completions.create(model="gpt-test", messages=USER)
    choice = completion.choices[0]
    calls: Any = choice.message.tool_calls
    assert completion.model == "gpt-test"
    assert choice.message.content == "Let me check."
    assert choice.finish_reason == "tool_calls"
    assert [(c.id, c.function.name) for c in calls] == [
        ("call_1", "get_weather"),
        ("call_2", "get_time"),
    ]
    assert [json.loads(c.function.arguments) for c in calls] == [WEATHER_ARGS, TIME_ARGS]
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_chat_stream_deltas_assemble_into_scripted_reply(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.responder = _always(Reply(text=TEXT, tool_calls=TOOL_REPLY.tool_calls))
    stream = oai.chat.completions.create(
        model="gpt-test", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    texts = [d.content for d in deltas if d.content]
    names: dict[int, str] = {}
    arguments: dict[int, str] = {}
    for call in (call for delta in deltas for call in delta.tool_calls or []):
        assert call.function is not None
        names[call.index] = names.get(call.index, "") + (call.function.name or "")
        arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")
    assert len(texts) > 3 and "".join(texts) == TEXT
    assert names == {0: "get_weather", 1: "get_time"}
    assert {i: json.loads(a) for i, a in arguments.items()} == {0: WEATHER_ARGS, 1: TIME_ARGS}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_chat_stream_helper_builds_the_final_completion(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.responder = _always(TOOL_REPLY)
    with oai.chat.completions.stream(model="gpt-test", messages=USER) as stream:
        message = stream.get_final_completion().choices[0].message
    assert message.content == "Let me check."
    calls: Any = message.tool_calls
    assert [json.loads(c.function.arguments) for c in calls] == [WEATHER_ARGS, TIME_ARGS]


# OpenAI Responses -------------------------------------------------------------


def test_responses_create_exposes_output_text(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.responder = _always(Reply(text=TEXT, cached_tokens=3))
    response = oai.responses.create(model="gpt-test", input="Weather?")
    assert response.output_text == TEXT
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 3


def test_responses_stream_deltas_join_into_text_and_arguments(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.responder = _always(Reply(text=TEXT, tool_calls=TOOL_REPLY.tool_calls[:1]))
    events: list[Any] = list(oai.responses.create(model="gpt-test", input="Weather?", stream=True))
    texts = [e.delta for e in events if e.type == "response.output_text.delta"]
    arguments = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(texts) > 3 and "".join(texts) == TEXT
    assert len(arguments) > 1 and json.loads("".join(arguments)) == WEATHER_ARGS
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"


def test_responses_stream_helper_builds_the_final_response(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.responder = _always(TOOL_REPLY)
    with oai.responses.stream(model="gpt-test", input="Weather?") as stream:
        final = stream.get_final_response()
    calls: Any = [item for item in final.output if item.type == "function_call"]
    assert final.output_text == "Let me check."
    assert [(c.call_id, json.loads(c.arguments)) for c in calls] == [
        ("call_1", WEATHER_ARGS),
        ("call_2", TIME_ARGS),
    ]


# Anthropic Messages -----------------------------------------------------------


def test_messages_create_returns_thinking_text_and_tool_use(
    model_server: ModelServer, claude: anthropic.Anthropic
) -> None:
    model_server.responder = _always(THINKING_REPLY)
    message = claude.messages.create(model="claude-test", max_tokens=100, messages=USER)
    blocks: Any = message.content
    assert [block.type for block in blocks] == ["thinking", "text", "tool_use"]
    assert blocks[0].thinking == THINKING_REPLY.thinking
    assert blocks[1].text == TEXT
    assert (blocks[2].id, blocks[2].input) == ("toolu_fixed", WEATHER_ARGS)
    assert message.stop_reason == "tool_use"


def test_messages_stream_final_message_matches_the_script(
    model_server: ModelServer, claude: anthropic.Anthropic
) -> None:
    model_server.responder = _always(THINKING_REPLY)
    with claude.messages.stream(model="claude-test", max_tokens=100, messages=USER) as stream:
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
                model="gpt-test", messages=USER, stream=True
            )
            return "".join([chunk.choices[0].delta.content or "" async for chunk in stream])

    assert asyncio.run(run()) == ECHO


def test_async_anthropic_streams_messages(model_server: ModelServer) -> None:
    async def run() -> Any:
        url = model_server.url
        async with (
            anthropic.AsyncAnthropic(base_url=url, api_key="sk-ant-test", max_retries=0) as client,
            client.messages.stream(model="claude-test", max_tokens=100, messages=USER) as stream,
        ):
            return await stream.get_final_message()

    assert asyncio.run(run()).content[0].text == ECHO


# Server behaviour -------------------------------------------------------------


def test_fail_next_makes_the_sdk_retry_then_succeed(model_server: ModelServer) -> None:
    model_server.fail_next(429, {"error": {"message": "slow down", "type": "rate_limit"}})
    with _openai(model_server, max_retries=1) as client:
        completion = client.chat.completions.create(model="gpt-test", messages=USER)
    assert completion.choices[0].message.content == ECHO
    assert len(model_server.requests) == 2
    assert model_server.requests[1].headers["x-stainless-retry-count"] == "1"


def test_fail_next_surfaces_as_the_sdk_error_without_retries(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.fail_next(500, {"error": {"message": "boom", "type": "server_error"}})
    with pytest.raises(openai.InternalServerError, match="boom"):
        oai.chat.completions.create(model="gpt-test", messages=USER)


def test_first_chunk_gate_holds_the_stream_until_the_consumer_opens_it(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.first_chunk_gate = gate = threading.Event()
    with oai.chat.completions.create(model="gpt-test", messages=USER, stream=True) as stream:
        first = next(iter(stream))
        gate.set()
        rest = list(stream)
    assert first.choices[0].delta.role == "assistant" and rest
    assert model_server.gate_opened_in_time


def test_first_chunk_gate_left_shut_times_out(
    model_server: ModelServer, oai: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ms, "GATE_TIMEOUT", 0.1)
    model_server.first_chunk_gate = threading.Event()
    assert list(oai.chat.completions.create(model="gpt-test", messages=USER, stream=True))
    assert not model_server.gate_opened_in_time


def test_chunk_delay_spaces_out_streamed_events(
    model_server: ModelServer, oai: openai.OpenAI
) -> None:
    model_server.chunk_delay = 0.02
    started = time.perf_counter()
    chunks = list(oai.chat.completions.create(model="gpt-test", messages=USER, stream=True))
    assert time.perf_counter() - started >= 0.02 * len(chunks)


def test_every_request_is_kept_in_order(
    model_server: ModelServer, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    oai.chat.completions.create(model="gpt-test", messages=USER)
    list(oai.responses.create(model="gpt-test", input="hi", stream=True))
    claude.messages.create(model="claude-test", max_tokens=10, messages=USER)
    requests = model_server.requests
    assert [(r.api, r.path, r.stream) for r in requests] == [
        ("chat", "/v1/chat/completions", False),
        ("responses", "/v1/responses", True),
        ("messages", "/v1/messages", False),
    ]
    assert requests[0].body["messages"] == USER
    assert requests[2].headers["user-agent"].startswith("Anthropic/")


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
    assert served_body["choices"][0]["message"]["content"] == ECHO
    assert missing.status == 404 and missing_body["error"]["type"] == "not_found_error"


def test_chunked_request_bodies_are_read(model_server: ModelServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", model_server.port, timeout=5)
    body = iter([b'{"messages": [{"role": "user", ', b'"content": "hi"}]}'])
    try:
        connection.request("POST", "/v1/chat/completions", body=body, encode_chunked=True)
        answer = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    assert answer["choices"][0]["message"]["content"] == "echo: hi"


def test_stop_ends_kept_alive_connections_promptly() -> None:
    server = ModelServer().start()
    with _openai(server) as client:
        client.chat.completions.create(model="gpt-test", messages=USER)
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 1.0
    with pytest.raises(RuntimeError, match="not running"):
        _openai(server)


# Responders -------------------------------------------------------------------


def _request(api: str, body: dict[str, Any]) -> ModelRequest:
    return ModelRequest(api=api, path=f"/v1/{api}", headers={}, body=body, stream=False)


def _texts(seed: int, count: int = 3) -> list[str]:
    respond = random_responder(seed)
    return [respond(_request("chat", {"messages": USER})).text for _ in range(count)]


def test_echo_responder_echoes_the_last_user_text_of_each_api() -> None:
    parts = [{"type": "text", "text": "first"}, {"type": "image"}, {"type": "text", "text": "!"}]
    messages = [{"role": "user", "content": "old"}, {"role": "user", "content": parts}]
    items = [{"role": "user", "content": [{"type": "input_text", "text": "new"}]}]
    assert echo_responder(_request("chat", {"messages": messages})).text == "echo: first!"
    assert echo_responder(_request("messages", {"messages": messages})).text == "echo: first!"
    assert echo_responder(_request("responses", {"input": "plain"})).text == "echo: plain"
    assert echo_responder(_request("responses", {"input": items})).text == "echo: new"


def test_random_responder_replies_differ_across_seeds() -> None:
    replies = [_texts(seed) for seed in range(5)]
    assert len({tuple(texts) for texts in replies}) == 5
    assert all(text for texts in replies for text in texts)


def test_random_responder_repeats_itself_given_the_same_seed() -> None:
    assert _texts(3) == _texts(3)


@pytest.mark.parametrize(
    ("api", "tools"),
    [
        ("chat", CHAT_TOOLS),
        (
            "responses",
            [{"type": "function", "name": n, "parameters": s} for n, s in SCHEMAS.items()],
        ),
        ("messages", [{"name": n, "input_schema": s} for n, s in SCHEMAS.items()]),
    ],
)
def test_random_responder_calls_only_offered_tools_with_valid_arguments(
    api: str, tools: list[dict[str, Any]]
) -> None:
    respond = random_responder(seed=7)
    calls = [c for _ in range(40) for c in respond(_request(api, {"tools": tools})).tool_calls]
    assert len({c.name for c in calls}) == 2 and {c.name for c in calls} <= SCHEMAS.keys()
    for call in calls:
        if call.name == "get_weather":
            assert isinstance(call.arguments["city"], str)
            assert call.arguments["units"] in ("celsius", "fahrenheit")
            assert all(isinstance(day, int) for day in call.arguments["days"])
        else:
            assert isinstance(call.arguments["zone"], str)
            assert isinstance(call.arguments.get("exact", True), bool)


def test_random_replies_stream_through_the_sdk() -> None:
    with ModelServer(random_responder(seed=11)) as server, _openai(server) as client:
        for _ in range(6):
            create = client.chat.completions.create
            with create(model="gpt-test", messages=USER, tools=CHAT_TOOLS, stream=True) as stream:
                reasons = [chunk.choices[0].finish_reason for chunk in stream]
            assert reasons[-1] in ("stop", "tool_calls")
