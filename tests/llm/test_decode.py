"""What is and is not an LLM call, errors, and bodies that are broken or compressed."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import importlib.util
import zlib
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from agentreplay.cassette import HttpChunk, HttpRequest
from agentreplay.demo.model_server import ModelServer, Reply, ToolCallSpec
from agentreplay.llm import decode_exchange, detect_api
from tests.llm.helpers import Exchange, Serve, anthropic_client, openai_client, record

MESSAGES: Any = [{"role": "user", "content": "Weather in Paris?"}]
REPLY = Reply(text="Let me check the weather.", tool_calls=[ToolCallSpec("get_weather", {"a": 1})])
Chats = dict[bool, Exchange]
"""A recorded chat exchange by whether it was streamed."""


@pytest.fixture(scope="module")
def chats(tmp_path_factory: pytest.TempPathFactory) -> Chats:
    """A chat completion and a streamed one, recorded once for the module's tests to alter."""
    with ModelServer(lambda request: REPLY) as server:

        def agent() -> None:
            with openai_client(server) as client:
                client.chat.completions.create(model="gpt-test", messages=MESSAGES)
                for _ in client.chat.completions.create(
                    model="gpt-test", messages=MESSAGES, stream=True
                ):
                    pass

        plain, streamed = record(tmp_path_factory.mktemp("chats") / "run.cassette", agent)
    return {False: plain, True: streamed}


def _recorded_chat(chats: Chats, *, stream: bool) -> Exchange:
    """A copy of a recorded chat exchange, free to be altered."""
    return dataclasses.replace(chats[stream], chunks=list(chats[stream].chunks))


def _with(exchange: Exchange, body: list[bytes], *headers: tuple[str, str]) -> Exchange:
    """The same exchange with another body (cut into these chunks) and extra headers."""
    assert exchange.response is not None and exchange.chunks
    at = exchange.chunks[0].at
    chunks = [
        dataclasses.replace(exchange.chunks[0], data=d, at=at + i) for i, d in enumerate(body)
    ]
    response = dataclasses.replace(exchange.response, headers=exchange.response.headers + headers)
    return Exchange(exchange.request, response, chunks, exchange.end_at)


def test_other_endpoints_of_the_sdks_are_not_llm_calls(serve: Serve, path: Path) -> None:
    server = serve(REPLY)

    def agent() -> None:
        with openai_client(server) as client:
            with pytest.raises(openai.NotFoundError):
                client.models.list()
            with pytest.raises(openai.NotFoundError):
                client.embeddings.create(model="embed-test", input="hello")

    exchanges = record(path, agent)
    assert [e.request.url.rsplit("/", 1)[-1] for e in exchanges] == ["models", "embeddings"]
    assert [e.decode() for e in exchanges] == [None, None]


@pytest.mark.parametrize(
    ("method", "url", "api"),
    [
        ("POST", "https://api.openai.com/v1/chat/completions", "chat.completions"),
        ("post", "http://localhost:8000/chat/completions/", "chat.completions"),
        (
            "POST",
            "https://x.openai.azure.com/openai/deployments/d/chat/completions?v=1",
            "chat.completions",
        ),
        ("GET", "https://api.openai.com/v1/chat/completions", None),
        ("POST", "https://api.openai.com/v1/responses", "responses"),
        ("GET", "https://api.openai.com/v1/responses/resp_1", None),
        ("POST", "https://api.openai.com/v1/responses/resp_1/cancel", None),
        ("POST", "https://api.anthropic.com/v1/messages", "messages"),
        ("POST", "https://api.anthropic.com/v1/messages/count_tokens", None),
        ("POST", "http://[::1/v1/messages", None),
    ],
)
def test_the_api_is_told_by_method_and_path(method: str, url: str, api: str | None) -> None:
    assert detect_api(method, url) == api


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://api.openai.com/v1/chat/completions", "openai"),
        ("https://my.openai.azure.com/openai/deployments/d/chat/completions", "openai"),
        ("https://openrouter.ai/api/v1/chat/completions", "openai-compatible"),
        ("http://127.0.0.1:8000/v1/chat/completions", "openai-compatible"),
    ],
)
def test_provider_is_openai_only_on_openai_hosts(chats: Chats, url: str, provider: str) -> None:
    exchange = _recorded_chat(chats, stream=False)
    exchange.request = dataclasses.replace(exchange.request, url=url)
    assert exchange.call().provider == provider


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'{"model": "m"}', b'{"messages": "hi"}', b"{" * 100_000],
)
def test_a_request_body_that_is_not_a_chat_request_is_not_a_call(chats: Chats, body: bytes) -> None:
    exchange = _recorded_chat(chats, stream=False)
    exchange.request = dataclasses.replace(exchange.request, body=body)
    assert exchange.decode() is None


def test_error_status_gives_the_providers_message(serve: Serve, path: Path) -> None:
    server = serve(REPLY)
    server.fail_next(400, {"error": {"message": "max_tokens is too large", "type": "invalid"}})
    server.fail_next(
        529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )

    def agent() -> None:
        with openai_client(server) as client, pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
        with anthropic_client(server) as client, pytest.raises(anthropic.APIStatusError):
            client.messages.create(model="claude-test", max_tokens=10, messages=MESSAGES)

    chat, messages = (e.call() for e in record(path, agent))
    assert (chat.status, chat.error, chat.model, chat.stream) == (
        400,
        "max_tokens is too large",
        "gpt-test",
        True,
    )
    assert (messages.status, messages.error, messages.api) == (529, "Overloaded", "messages")
    for call in (chat, messages):
        assert (call.output_text, call.tool_calls, call.finish_reason, call.ttft) == (
            "",
            [],
            None,
            None,
        )


def test_error_bodies_in_other_shapes(chats: Chats) -> None:
    exchange = _recorded_chat(chats, stream=False)
    assert exchange.response is not None
    failing = dataclasses.replace(
        exchange, response=dataclasses.replace(exchange.response, status=502)
    )
    for body, error in [
        (b'{"error": "model not loaded"}', "model not loaded"),
        (b'{"detail": "Not authenticated"}', "Not authenticated"),
        (b"upstream connect error", "upstream connect error"),
        (b"<html>Bad gateway</html>", None),
        (b"\xff\xfe", "\ufffd\ufffd"),
        (b"", None),
    ]:
        assert _with(failing, [body]).call().error == error


def test_request_without_a_response_is_a_call_with_no_answer(chats: Chats) -> None:
    exchange = _recorded_chat(chats, stream=True)
    call = decode_exchange(exchange.request, None, [], None)
    assert call is not None
    assert (call.model, call.status, call.output_text, call.duration, call.gaps) == (
        "gpt-test",
        None,
        "",
        None,
        [],
    )


def test_stream_cut_mid_event_keeps_what_arrived(chats: Chats) -> None:
    exchange = _recorded_chat(chats, stream=True)
    whole = exchange.call()
    cut = next(i for i, c in enumerate(exchange.chunks) if b'"arguments": "' in c.data) + 2
    torn = exchange.chunks[cut].data[:40]
    exchange.chunks = [*exchange.chunks[:cut], dataclasses.replace(exchange.chunks[cut], data=torn)]
    exchange.end_at = None
    call = exchange.call()
    assert call.output_text == whole.output_text
    assert call.tool_calls[0].name == "get_weather"
    assert whole.tool_calls[0].arguments.startswith(call.tool_calls[0].arguments)
    assert call.tool_calls[0].parsed is None
    assert call.finish_reason is None
    assert call.duration == (exchange.chunks[-1].at - exchange.request.at) / 1e9


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "body", [b'{"id": "chatcmpl-1", "choices": [{"mess', b"\x00\xffgarbage\r\n\r\n", b"[]"]
)
def test_a_broken_answer_is_decoded_empty(chats: Chats, stream: bool, body: bytes) -> None:
    exchange = _recorded_chat(chats, stream=stream)
    call = _with(exchange, [body[:5], body[5:]]).call()
    assert (call.model, call.output_text, call.tool_calls, call.status) == ("gpt-test", "", [], 200)
    assert (call.ttft, call.finish_reason, call.input_tokens) == (None, None, None)


def _gzip_per_chunk(chunks: list[HttpChunk], wbits: int) -> list[bytes]:
    """Compress a body flushing at each chunk, as a compressing server streams it."""
    compressor = zlib.compressobj(wbits=wbits)
    out = [compressor.compress(c.data) + compressor.flush(zlib.Z_SYNC_FLUSH) for c in chunks]
    return [*out[:-1], out[-1] + compressor.flush()]


@pytest.mark.parametrize(
    ("encoding", "wbits"), [("gzip", 31), ("deflate", 15), ("deflate", -15), ("x-gzip", 31)]
)
def test_compressed_stream_decodes_with_its_timing(chats: Chats, encoding: str, wbits: int) -> None:
    exchange = _recorded_chat(chats, stream=True)
    plain = exchange.call()
    compressed = _with(
        exchange, _gzip_per_chunk(exchange.chunks, wbits), ("Content-Encoding", encoding)
    )
    call = compressed.call()
    assert (call.output_text, call.tool_calls) == (plain.output_text, plain.tool_calls)
    chunks = compressed.chunks
    assert call.ttft == (chunks[1].at - exchange.request.at) / 1e9


def test_compressed_body_split_anywhere_decodes(chats: Chats) -> None:
    exchange = _recorded_chat(chats, stream=False)
    packed = gzip.compress(exchange.body)
    pieces = [packed[i : i + 7] for i in range(0, len(packed), 7)]
    call = _with(exchange, pieces, ("content-encoding", "gzip")).call()
    assert call.tool_calls == exchange.call().tool_calls


def test_body_already_decompressed_despite_its_header_decodes(chats: Chats) -> None:
    # aiohttp hands out (and so records) decompressed bytes under a gzip header.
    exchange = _recorded_chat(chats, stream=True)
    call = _with(exchange, [c.data for c in exchange.chunks], ("content-encoding", "gzip")).call()
    assert call.tool_calls == exchange.call().tool_calls


def test_corrupt_or_unknown_encodings_decode_empty(chats: Chats) -> None:
    exchange = _recorded_chat(chats, stream=False)
    packed = gzip.compress(exchange.body)
    corrupt = packed[:20] + bytes(b ^ 0x55 for b in packed[20:])
    for body, encoding in [(corrupt, "gzip"), (packed[:30], "gzip"), (packed, "zstd-ish")]:
        call = _with(exchange, [body], ("content-encoding", encoding)).call()
        assert (call.output_text, call.tool_calls) == ("", [])


@pytest.mark.skipif(importlib.util.find_spec("brotli") is not None, reason="brotli installed")
def test_brotli_without_the_brotli_package_decodes_empty(chats: Chats) -> None:
    exchange = _recorded_chat(chats, stream=False)
    call = _with(exchange, [b"\x8b\x07\x80hello\x03"], ("content-encoding", "br")).call()
    assert (call.model, call.output_text) == ("gpt-test", "")


def test_aiohttp_recorded_stream_decodes(serve: Serve, path: Path) -> None:
    server = serve(REPLY, chunk_delay=0.01)

    async def agent() -> None:
        async with openai.AsyncOpenAI(
            base_url=server.url + "/v1",
            api_key="sk-test",
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        ) as client:
            stream = await client.chat.completions.create(
                model="gpt-test", messages=MESSAGES, stream=True
            )
            async for _ in stream:
                pass

    [exchange] = record(path, lambda: asyncio.run(agent()))
    call = exchange.call()
    assert call.output_text == "Let me check the weather."
    assert [(c.name, c.parsed) for c in call.tool_calls] == [("get_weather", {"a": 1})]


def test_decode_exchange_takes_events_it_did_not_expect(chats: Chats) -> None:
    exchange = _recorded_chat(chats, stream=False)
    odd = HttpRequest(exchange.request.task, 0, 0, "POST", "no url at all", (), b"{}", "httpx")
    assert decode_exchange(odd, exchange.response, exchange.chunks, None) is None
