"""Races: the first answer wins, and answers are taken as they complete."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import anyio
import httpx

from tests.order.conftest import record_and_replay
from tests.servers import ToolServer

REGIONS = ("east", "north", "west")


def test_hedged_requests_replay_the_same_winner(server: ToolServer, cassette: Path) -> None:
    async def hedge() -> tuple[list[str], list[str]]:
        async with httpx.AsyncClient() as client:
            tasks = {
                name: asyncio.create_task(client.get(f"{server.url}/tool/{name}?delay=spread"))
                for name in REGIONS
            }
            done, pending = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        winners = sorted(name for name, task in tasks.items() if task in done)
        cancelled = sorted(name for name, task in tasks.items() if task.cancelled())
        return winners, cancelled

    recorded, replays = record_and_replay(cassette, lambda: asyncio.run(hedge()), server.stop)
    winners, cancelled = recorded
    assert len(winners) >= 1 and set(winners) | set(cancelled) == set(REGIONS)
    assert replays == [recorded] * len(replays)


def test_an_anyio_task_group_replays_the_same_winner(server: ToolServer, cassette: Path) -> None:
    async def hedge() -> list[str]:
        winner: list[str] = []
        async with httpx.AsyncClient() as client, anyio.create_task_group() as group:

            async def ask(name: str) -> None:
                await client.get(f"{server.url}/tool/{name}?delay=spread")
                winner.append(name)
                group.cancel_scope.cancel()

            for name in REGIONS:
                group.start_soon(ask, name)
        return winner

    recorded, replays = record_and_replay(cassette, lambda: anyio.run(hedge), server.stop)
    assert len(recorded) >= 1
    assert replays == [recorded] * len(replays)


def test_as_completed_over_a_thread_pool_replays_the_recorded_order(
    server: ToolServer, cassette: Path
) -> None:
    def fetch(client: httpx.Client, name: str) -> str:
        client.get(f"{server.url}/tool/{name}?delay=spread")
        return name

    def gather() -> list[str]:
        with httpx.Client() as client, ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(fetch, client, name) for name in "abcd"]
            return [future.result() for future in as_completed(futures)]

    recorded, replays = record_and_replay(cassette, gather, server.stop)
    assert sorted(recorded) == list("abcd")
    assert replays == [recorded] * len(replays)


def test_asyncio_as_completed_replays_the_recorded_order(
    server: ToolServer, cassette: Path
) -> None:
    async def gather() -> list[str]:
        async with httpx.AsyncClient() as client:
            calls = [client.get(f"{server.url}/tool/{name}?delay=spread") for name in "abcd"]
            return [(await done).json()["tool"] for done in asyncio.as_completed(calls)]

    recorded, replays = record_and_replay(cassette, lambda: asyncio.run(gather()), server.stop)
    assert sorted(recorded) == list("abcd")
    assert replays == [recorded] * len(replays)
