"""Deadlines: a request or a stream cut by the agent's own deadline replays as cut."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import httpx
import httpx2
import pytest

import agentreplay
from tests.order.conftest import record_and_replay
from tests.servers import ToolServer

Get = Callable[[str], Awaitable[Any]]


async def _with_httpx(module: Any, job: Callable[[Get], Awaitable[Any]]) -> Any:
    async with module.AsyncClient() as client:
        return await job(client.get)


async def _with_aiohttp(job: Callable[[Get], Awaitable[Any]]) -> Any:
    async with aiohttp.ClientSession() as session:

        async def get(url: str) -> Any:
            async with session.get(url) as response:
                return await response.read()

        return await job(get)


CLIENTS: dict[str, Callable[[Callable[[Get], Awaitable[Any]]], Coroutine[Any, Any, Any]]] = {
    "httpx": lambda job: _with_httpx(httpx, job),
    "httpx2": lambda job: _with_httpx(httpx2, job),
    "aiohttp": _with_aiohttp,
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_deadline_that_cut_a_request_cuts_it_again(
    client: str, server: ToolServer, cassette: Path
) -> None:
    async def job(get: Get) -> list[str]:
        outcomes = []
        for delay in ("0.3", "0", "0.3"):
            try:
                await asyncio.wait_for(get(f"{server.url}/tool/1?delay={delay}"), 0.1)
                outcomes.append("answered")
            except TimeoutError:
                outcomes.append("timed out")
        return outcomes

    recorded, replays = record_and_replay(
        cassette, lambda: asyncio.run(CLIENTS[client](job)), server.stop
    )
    assert recorded == ["timed out", "answered", "timed out"]
    assert replays == [recorded] * len(replays)


_real_clock = time.perf_counter  # bound before any recording: its reads are not recorded


def _compute(seconds: float) -> None:
    """Work on the loop's thread, reading no clock the run records."""
    end = _real_clock() + seconds
    while _real_clock() < end:
        pass


def test_computing_before_a_deadline_does_not_count_against_it_on_replay(
    server: ToolServer, cassette: Path
) -> None:
    # The loop's code takes no virtual time, and answers come at their recorded
    # instants: the 300 ms of computing put each answer 300 ms later on the loop's
    # clock than the deadline set after it, which fired, its cancellation held back
    # until the answer, then delivered after the block (a CancelledError at the next
    # await, with the recording's answer in hand).
    async def job(get: Get) -> tuple[list[str], int]:
        outcomes = []
        for n in range(2):
            _compute(0.3)
            try:
                async with asyncio.timeout(0.25):
                    await get(f"{server.url}/tool/{n}?delay=0.02")
                outcomes.append("answered")
            except TimeoutError:
                outcomes.append("timed out")
            await asyncio.sleep(0)
        task = asyncio.current_task()
        assert task is not None
        return outcomes, task.cancelling()

    recorded, replays = record_and_replay(
        cassette, lambda: asyncio.run(CLIENTS["httpx"](job)), server.stop
    )
    assert recorded == (["answered"] * 2, 0)
    assert replays == [recorded] * len(replays)


def test_a_deadline_that_cut_a_stream_cuts_it_after_the_same_chunks(
    server: ToolServer, cassette: Path
) -> None:
    async def read() -> tuple[int, str]:
        got = []
        async with httpx.AsyncClient() as client:
            try:
                async with asyncio.timeout(0.25):
                    async with client.stream(
                        "GET", f"{server.url}/sse?n=40&delay=rand"
                    ) as response:
                        async for line in response.aiter_lines():
                            if line.startswith("data:"):
                                got.append(line)
                return len(got), "complete"
            except TimeoutError:
                return len(got), "cut"

    recorded, replays = record_and_replay(cassette, lambda: asyncio.run(read()), server.stop)
    count, how = recorded
    assert how == "cut" and 0 < count < 40
    assert replays == [recorded] * len(replays)


def test_a_chunk_a_busy_loop_handed_out_past_its_deadline_is_handed_out_again(
    server: ToolServer, cassette: Path
) -> None:
    # The loop is busy when the chunk comes and the deadline falls due: it runs the
    # ready I/O first, and the anyio scope does not cancel a task whose answer is in,
    # so the chunk is read and the cancellation comes at the next wait (openai's drain
    # of a finished stream outlives its 100 ms deadline so on a loaded machine). In
    # virtual time the deadline is first: the replay must still hand the chunk out.
    async def read() -> tuple[list[bytes], bool, int]:
        loop = asyncio.get_running_loop()
        got = []
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", f"{server.url}/sse?n=2&delay=0.02") as response:
                chunks = response.aiter_raw()
                got.append(await chunks.__anext__())
                loop.call_soon(time.sleep, 0.2)  # busy past the next chunk and the deadline
                with anyio.move_on_after(0.05) as scope:
                    got.append(await chunks.__anext__())
                    await asyncio.sleep(0)
                rest = [chunk async for chunk in chunks]
        task = asyncio.current_task()
        assert task is not None
        return got + rest, scope.cancelled_caught, task.cancelling()

    recorded, replays = record_and_replay(cassette, lambda: asyncio.run(read()), server.stop)
    chunks, cancelled, cancelling = recorded
    assert len(chunks) == 3 and b"token1" in chunks[1]
    assert cancelled and cancelling == 0
    assert replays == [recorded] * len(replays)


def test_an_aiohttp_stream_cut_by_a_deadline_is_cut_again(
    server: ToolServer, cassette: Path
) -> None:
    async def read() -> tuple[int, str]:
        pieces = 0
        async with aiohttp.ClientSession() as session:
            try:
                async with asyncio.timeout(0.25):
                    async with session.get(f"{server.url}/sse?n=40&delay=rand") as response:
                        async for _ in response.content.iter_any():
                            pieces += 1
                return pieces, "complete"
            except TimeoutError:
                return pieces, "cut"

    recorded, replays = record_and_replay(cassette, lambda: asyncio.run(read()), server.stop)
    assert recorded[1] == "cut" and recorded[0] > 0
    assert replays == [recorded] * len(replays)


def test_a_cancelled_request_is_a_cancelled_step_with_the_time_it_was_cut(
    server: ToolServer, cassette: Path
) -> None:
    async def hedge() -> None:
        async with httpx.AsyncClient() as client:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client.get(f"{server.url}/tool/1?delay=0.5"), 0.1)

    with agentreplay.record(cassette):
        asyncio.run(hedge())
    with agentreplay.open(cassette) as opened:
        (step,) = list(opened.steps())
    assert step.status == "cancelled" and step.error == "cancelled"
    assert step.duration is not None and 0.09 < step.duration < 0.5
    shown = subprocess.run(
        [sys.executable, "-m", "agentreplay", "show", str(cassette)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    # The step starts when the request leaves, a little after the 0.1 s timer started.
    shown_after = re.search(r"cancelled after (\d+\.\d{3}) s", shown)
    assert shown_after is not None and abs(float(shown_after[1]) - step.duration) < 0.001
