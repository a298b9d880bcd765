"""What-if answers re-encoded the way each provider sends them, read by the real SDKs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

import agentreplay
from agentreplay.debugger.overrides import check_override, recorded_answer
from agentreplay.demo.model_server import ModelServer, Reply, ToolCallSpec
from agentreplay.steps import step_from_events
from tests.llm.helpers import anthropic_client, openai_client

ANSWER = {
    "content": "Let me check.",
    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
}
SEEN = ("Let me check.", "get_weather", {"city": "Oslo"})
TOOL: Any = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}


@dataclass
class _Address:
    """Where the server was: replay needs only its address, not the server."""

    url: str


def _chat_with(client: openai.OpenAI, stream: bool) -> tuple[str, str, dict[str, Any]]:
    messages: Any = [{"role": "user", "content": "Weather?"}]
    if not stream:
        message = (
            client.chat.completions.create(model="m", messages=messages, tools=[TOOL])
            .choices[0]
            .message
        )
        call = message.tool_calls[0].function  # type: ignore[index,union-attr]
        return message.content or "", call.name, json.loads(call.arguments)
    text, name, arguments = "", "", ""
    for chunk in client.chat.completions.create(
        model="m", messages=messages, tools=[TOOL], stream=True
    ):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for part in delta.tool_calls or []:
            name += part.function.name or "" if part.function else ""
            arguments += part.function.arguments or "" if part.function else ""
    return text, name, json.loads(arguments)


def _chat(server: _Address, stream: bool) -> tuple[str, str, dict[str, Any]]:
    with openai_client(server) as client:
        return _chat_with(client, stream)


def _responses_with(client: openai.OpenAI, stream: bool) -> tuple[str, str, dict[str, Any]]:
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": {}}]
    response: Any
    if stream:
        with client.responses.stream(model="m", input="Weather?", tools=tools) as events:
            response = events.get_final_response()
    else:
        response = client.responses.create(model="m", input="Weather?", tools=tools)
    call = next(item for item in response.output if item.type == "function_call")
    return response.output_text, call.name, json.loads(call.arguments)


def _responses(server: _Address, stream: bool) -> tuple[str, str, dict[str, Any]]:
    with openai_client(server) as client:
        return _responses_with(client, stream)


def _messages_with(client: anthropic.Anthropic, stream: bool) -> tuple[str, str, dict[str, Any]]:
    kwargs: Any = {
        "model": "claude-x",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
    }
    if stream:
        with client.messages.stream(**kwargs) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    text = "".join(block.text for block in message.content if block.type == "text")
    use = next(block for block in message.content if block.type == "tool_use")
    return text, use.name, dict(use.input)


def _messages(server: _Address, stream: bool) -> tuple[str, str, dict[str, Any]]:
    with anthropic_client(server) as client:
        return _messages_with(client, stream)


CLIENTS: dict[str, Callable[[_Address, bool], tuple[str, str, dict[str, Any]]]] = {
    "chat": _chat,
    "responses": _responses,
    "messages": _messages,
}


@pytest.fixture
def server() -> Iterator[ModelServer]:
    recorded = Reply(text="Hmm.", tool_calls=[ToolCallSpec("get_time", {"zone": "UTC"})])
    model = ModelServer(lambda request: recorded).start()
    yield model
    model.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("api", sorted(CLIENTS))
def test_an_overridden_answer_reaches_the_sdk_as_the_provider_would_send_it(
    server: ModelServer, tmp_path: Path, api: str, stream: bool
) -> None:
    cassette = tmp_path / "run.cassette"
    ask, address = CLIENTS[api], _Address(server.url)
    with agentreplay.record(cassette):
        assert ask(address, stream) == ("Hmm.", "get_time", {"zone": "UTC"})
    server.stop()
    with agentreplay.replay(cassette, overrides={1: ANSWER}) as run:
        seen = ask(address, stream)
    assert seen == SEEN
    assert run.divergence is None


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("api", sorted(CLIENTS))
def test_a_recorded_answer_taken_as_an_override_replays_the_same_answer(
    server: ModelServer, tmp_path: Path, api: str, stream: bool
) -> None:
    cassette = tmp_path / "run.cassette"
    ask, address = CLIENTS[api], _Address(server.url)
    with agentreplay.record(cassette):
        recorded = ask(address, stream)
    server.stop()
    with agentreplay.open(cassette) as opened:
        step = step_from_events(1, opened.step(1))
    assert step is not None
    answer = recorded_answer(step)
    assert json.loads(json.dumps(answer)) == answer  # what an editor gets back as JSON
    with agentreplay.replay(cassette, overrides={1: answer}) as run:
        assert ask(address, stream) == recorded
    assert run.divergence is None


def test_a_recorded_http_response_and_tool_value_take_the_override_shapes(
    tmp_path: Path,
) -> None:
    from tests.servers import ToolServer

    cassette = tmp_path / "run.cassette"

    @agentreplay.tool
    def count(word: str) -> dict[str, int]:
        return {word: len(word)}

    with ToolServer() as tools, agentreplay.record(cassette):
        import httpx

        httpx.get(f"{tools.url}/tool/Paris")
        count("four")
    with agentreplay.open(cassette) as opened:
        infos = opened.step_infos()
        http, tool = (step_from_events(n, opened.step(n)) for n in (1, 2))
    assert http is not None and tool is not None
    response = recorded_answer(http)
    assert response["status"] == 200 and response["body"]["answer"].startswith("result-")
    assert "content-length" not in {k.lower() for k in response["headers"]}
    check_override(infos[0], response)
    assert recorded_answer(tool) == {"four": 4}
    check_override(infos[1], recorded_answer(tool))


def test_an_http_override_s_headers_replace_the_recorded_ones(tmp_path: Path) -> None:
    import httpx

    from tests.servers import ToolServer

    cassette = tmp_path / "run.cassette"
    with ToolServer() as tools, agentreplay.record(cassette):
        recorded = httpx.get(f"{tools.url}/tool/Paris")
    assert "server" in recorded.headers and "date" in recorded.headers
    url = f"{tools.url}/tool/Paris"

    given = {"status": 500, "headers": {"X-A": "1", "Server": "fake"}, "body": {"error": "x"}}
    with agentreplay.replay(cassette, overrides={1: given}) as run:
        answer = httpx.get(url)
    assert run.divergence is None
    assert answer.status_code == 500 and answer.json() == {"error": "x"}
    assert answer.headers.multi_items() == [
        ("x-a", "1"),
        ("server", "fake"),
        ("content-type", "application/json"),
        ("content-length", str(len(answer.content))),
    ]

    # Without "headers", the recorded ones stay, but for those the new body decides.
    with agentreplay.replay(cassette, overrides={1: {"status": 503, "body": "busy"}}):
        answer = httpx.get(url)
    assert answer.status_code == 503 and answer.text == "busy"
    assert answer.headers.get_list("server") == recorded.headers.get_list("server")
    assert answer.headers.get_list("content-type") == ["text/plain"]
