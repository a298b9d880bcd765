"""aiohttp's ClientSession against a real local server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import agentreplay
from agentreplay import DivergenceError
from tests.servers import ToolServer


async def _run(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/echo", json={"q": "hello"}) as response:
            echo = (
                response.status,
                (await response.json())["body"],
                response.headers["content-type"],
            )
        async with session.get(f"{url}/sse?n=4&delay=0.02") as response:
            pieces = [piece async for piece in response.content.iter_any()]
        async with session.get(f"{url}/sse?n=3") as response:
            lines = [line async for line in response.content]
        async with session.get(f"{url}/gzip") as response:
            gz = await response.json()
        async with session.get(f"{url}/status/404") as response:
            status = (response.status, response.reason, await response.text())
    return {"echo": echo, "pieces": pieces, "lines": lines, "gzip": gz, "status": status}


def test_round_trip_is_identical_offline(server: ToolServer, cassette: Path) -> None:
    with agentreplay.record(cassette):
        recorded = asyncio.run(_run(server.url))
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = asyncio.run(_run(server.url))
    assert replayed == recorded
    assert len(recorded["pieces"]) >= 2  # the delays keep pieces apart
    assert run.result is not None and run.result.reproduced


def test_recording_passes_the_first_piece_through(server: ToolServer, cassette: Path) -> None:
    gate = server.gate = threading.Event()

    async def run() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/sse?n=3") as response,
        ):
            async for _ in response.content.iter_any():
                gate.set()

    with agentreplay.record(cassette):
        asyncio.run(run())
    assert server.gate_opened_in_time is True


def test_connection_error_replays_as_the_same_exception(cassette: Path) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    nowhere = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()

    async def run() -> BaseException:
        async with aiohttp.ClientSession() as session:
            try:
                await session.get(nowhere)
            except aiohttp.ClientError as exc:
                return exc
        raise AssertionError("no exception")

    with agentreplay.record(cassette):
        recorded = asyncio.run(run())
    with agentreplay.replay(cassette):
        replayed = asyncio.run(run())
    assert type(replayed) is type(recorded)
    assert str(replayed) == str(recorded)


def test_changed_body_is_a_divergence(server: ToolServer, cassette: Path) -> None:
    async def post(city: str) -> None:
        async with aiohttp.ClientSession() as session:
            await (await session.post(f"{server.url}/echo", json={"city": city})).read()

    with agentreplay.record(cassette):
        asyncio.run(post("Paris"))
    with pytest.raises(DivergenceError, match="'Paris' != 'Lyon'"), agentreplay.replay(cassette):
        asyncio.run(post("Lyon"))


@pytest.mark.parametrize(
    ("path", "timeout"),
    [("/slow?delay=2", 0.2), ("/drop", 5.0)],
    ids=["timeout", "broken-body"],
)
def test_timeouts_and_cut_bodies_replay_as_the_same_exception(
    server: ToolServer, cassette: Path, path: str, timeout: float
) -> None:
    url = server.url + path

    async def run() -> tuple[str, str, bytes]:
        got = b""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            try:
                async with session.get(url) as response:
                    async for piece in response.content.iter_any():
                        got += piece
            except (aiohttp.ClientError, TimeoutError) as exc:
                return type(exc).__qualname__, str(exc), got
        raise AssertionError("no exception")

    with agentreplay.record(cassette):
        recorded = asyncio.run(run())
    server.stop()
    with agentreplay.replay(cassette) as replay:
        replayed = asyncio.run(run())
    assert replayed == recorded
    assert replay.divergence is None
