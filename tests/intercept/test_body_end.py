"""Whether a recorded body was read to its end, for every HTTP client.

A reader that stops at a server-sent stream's terminal ``data: [DONE]`` event, as
openai's sync stream does before it closes the response, has read the whole body:
the recording says "body complete". A reader that stops earlier says "body closed
early".
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import openai
import pytest
import requests

import agentreplay
from agentreplay.cassette import HttpEnd
from agentreplay.cli import main
from agentreplay.demo.model_server import ModelServer, Reply
from tests.servers import ToolServer


@pytest.fixture(scope="module")
def tools() -> Iterator[ToolServer]:
    with ToolServer() as server:
        yield server


def _ends(path: Path) -> list[bool]:
    with agentreplay.open(path) as cassette:
        return [e.complete for e in cassette.events() if isinstance(e, HttpEnd)]


def _httpx(module: str, url: str, stop: str) -> None:
    http = importlib.import_module(module)
    with http.Client() as client, client.stream("GET", url) as response:
        for line in response.iter_lines():
            if line == stop:
                break


def _httpx_async(module: str, url: str, stop: str) -> None:
    http = importlib.import_module(module)

    async def read() -> None:
        async with http.AsyncClient() as client, client.stream("GET", url) as response:
            async for line in response.aiter_lines():
                if line == stop:
                    break

    asyncio.run(read())


def _requests(url: str, stop: str) -> None:
    with requests.get(url, stream=True) as response:
        for line in response.iter_lines(decode_unicode=True):
            if line == stop:
                break


def _aiohttp(url: str, stop: str) -> None:
    async def read() -> None:
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            async for line in response.content:
                if line.decode().strip() == stop:
                    break

    asyncio.run(read())


CLIENTS: dict[str, Callable[[str, str], None]] = {
    "httpx": lambda url, stop: _httpx("httpx", url, stop),
    "httpx2": lambda url, stop: _httpx("httpx2", url, stop),
    "httpx-async": lambda url, stop: _httpx_async("httpx", url, stop),
    "httpx2-async": lambda url, stop: _httpx_async("httpx2", url, stop),
    "requests": _requests,
    "aiohttp": _aiohttp,
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize(
    ("stop", "complete"),
    [("data: [DONE]", True), ("", True), ('data: {"i": 0, "text": "token0"}', False)],
    ids=["at-done", "at-the-end", "after-the-first-event"],
)
def test_a_body_is_complete_when_read_to_its_terminal_event(
    tools: ToolServer, tmp_path: Path, client: str, stop: str, complete: bool
) -> None:
    cassette = tmp_path / "run.cassette"
    if not complete:  # the server holds the rest back: only the first event can arrive
        tools.gate = threading.Event()
    try:
        with agentreplay.record(cassette):
            # "" is never a line of the stream's: the reader reads to the end.
            CLIENTS[client](f"{tools.url}/sse?n=3", stop or "never")
    finally:
        if tools.gate is not None:
            tools.gate.set()
            tools.gate = None
    assert _ends(cassette) == [complete]


@pytest.mark.parametrize("module", ["httpx", "httpx2"])
def test_a_length_delimited_body_read_to_its_last_byte_is_complete(
    tools: ToolServer, tmp_path: Path, module: str
) -> None:
    http = importlib.import_module(module)
    cassette = tmp_path / "run.cassette"
    size = 200_000  # more than one read of the socket
    with agentreplay.record(cassette), http.Client() as client:
        for wanted in (size, 1):
            with client.stream("GET", f"{tools.url}/bytes?n={size}") as response:
                got = b""
                for chunk in response.iter_raw():
                    got += chunk
                    if len(got) >= wanted:  # stops without asking for the end
                        break
    assert _ends(cassette) == [True, False]


def test_an_openai_stream_read_to_the_end_shows_as_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cassette = tmp_path / "run.cassette"
    with ModelServer(lambda request: Reply(text="Lisbon at 7:05.")) as model:
        url = model.url
        with agentreplay.record(cassette):
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test")
            with client:
                stream = client.chat.completions.create(
                    model="gpt-test", messages=[{"role": "user", "content": "Hi"}], stream=True
                )
                text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Lisbon at 7:05."
    assert _ends(cassette) == [True]
    assert main(["show", str(cassette), "--events"]) == 0
    out = capsys.readouterr().out
    assert "body complete" in out and "closed early" not in out
    with agentreplay.replay(cassette) as run:  # no server: the body ends where it did
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test")
        with client:
            stream = client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            again = [c.model_dump() for c in stream]
    assert run.result is not None and run.result.reproduced
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in again) == text
