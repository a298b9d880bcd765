"""Concurrent calls: each logical task gets its own recorded answers on replay."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

import agentreplay
from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import jobs_in_flight
from tests.servers import ToolServer

# Both made before any session, so neither is recorded nor virtualised: they let
# replay run the tasks in another order than the recording did.
_shuffle = random.Random(1234)
_real_sleep = time.sleep


def test_gather_of_20_gets_each_task_its_own_answer(server: ToolServer, cassette: Path) -> None:
    async def main(jitter: bool) -> list[str]:
        async with httpx.AsyncClient() as client:

            async def call(i: int) -> str:
                if jitter:
                    await asyncio.sleep(_shuffle.random() / 100)
                delay = (20 - i) / 200  # on record, later tasks finish first
                response = await client.get(f"{server.url}/tool/{i}?delay={delay}")
                return str(response.json()["answer"])

            return await asyncio.gather(*(call(i) for i in range(20)))

    with agentreplay.record(cassette):
        recorded = asyncio.run(main(jitter=False))
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = asyncio.run(main(jitter=True))
    assert recorded == [f"result-{i}" for i in range(20)]
    assert replayed == recorded
    assert run.result is not None and run.result.reproduced


def test_identical_concurrent_requests_keep_their_own_answers(
    server: ToolServer, cassette: Path
) -> None:
    # Same URL, same body; the server numbers its answers, so they differ.
    async def main(jitter: bool) -> list[int]:
        async with httpx.AsyncClient() as client:

            async def call() -> int:
                if jitter:
                    await asyncio.sleep(_shuffle.random() / 100)
                response = await client.get(f"{server.url}/tool/same?delay=0.01")
                return int(response.json()["served"])

            return await asyncio.gather(*(call() for _ in range(10)))

    with agentreplay.record(cassette):
        recorded = asyncio.run(main(jitter=True))
    server.stop()
    with agentreplay.replay(cassette):
        replayed = asyncio.run(main(jitter=True))
    assert sorted(recorded) == list(range(1, 11))
    assert replayed == recorded


def test_8_threads_of_25_requests(server: ToolServer, cassette: Path) -> None:
    def main() -> dict[int, list[str]]:
        results: dict[int, list[str]] = {}

        def worker(n: int) -> None:
            with httpx.Client() as client:
                results[n] = [
                    client.get(f"{server.url}/tool/{n}-{i}").json()["answer"] for i in range(25)
                ]

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    with agentreplay.record(cassette):
        recorded = main()
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = main()
    assert recorded == {n: [f"result-{n}-{i}" for i in range(25)] for n in range(8)}
    assert replayed == recorded
    assert run.result is not None and run.result.reproduced


def test_to_thread_and_executors_get_their_own_tasks(server: ToolServer, cassette: Path) -> None:
    def fetch(i: int) -> str:
        _real_sleep(_shuffle.random() / 50)
        return str(httpx.get(f"{server.url}/tool/{i}").json()["answer"])

    async def main() -> list[str]:
        threaded = await asyncio.gather(*(asyncio.to_thread(fetch, i) for i in range(5)))
        with ThreadPoolExecutor(4) as pool:
            pooled = list(pool.map(fetch, range(5, 10)))
        return [*threaded, *pooled]

    with agentreplay.record(cassette):
        recorded = asyncio.run(main())
    server.stop()
    with agentreplay.replay(cassette):
        replayed = asyncio.run(main())
    assert recorded == [f"result-{i}" for i in range(10)]
    assert replayed == recorded
    with agentreplay.open(cassette) as opened:
        tasks = {info.task for info in opened.step_infos()}
    assert len(tasks) == 10  # every job ran as its own logical task


def test_a_job_the_loop_awaits_counts_as_working_until_the_loop_has_its_result(
    cassette: Path,
) -> None:
    def job() -> str:
        return "done"

    async def main() -> tuple[int, str, int]:
        session = active_session()
        pool = ThreadPoolExecutor(1)
        future = asyncio.get_running_loop().run_in_executor(pool, job)
        pool.shutdown(wait=True)  # the job's thread has set its result and is gone
        # The loop has not heard of it yet: were the job not counted now, a loop with
        # nothing else ready would jump its virtual clock to its next timer first.
        before = jobs_in_flight(session)
        result = await future
        return before, result, jobs_in_flight(session)

    with agentreplay.record(cassette):
        assert asyncio.run(main()) == (1, "done", 0)


def test_a_callable_object_run_by_to_thread_is_the_agents_job(
    server: ToolServer, cassette: Path
) -> None:
    class Fetch:  # no code of its own to classify: who started the job decides
        def __call__(self, i: int) -> str:
            return str(httpx.get(f"{server.url}/tool/{i}").json()["answer"])

    async def main() -> list[str]:
        return [await asyncio.to_thread(Fetch(), i) for i in range(2)]

    with agentreplay.record(cassette):
        recorded = asyncio.run(main())
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = asyncio.run(main())
    assert recorded == replayed == ["result-0", "result-1"]
    assert run.result is not None and run.result.reproduced
    with agentreplay.open(cassette) as opened:
        assert [info.task for info in opened.step_infos()] == ["0.1.1", "0.1.2"]


def test_tasks_waiting_the_same_delay_wake_in_the_order_they_started(
    server: ToolServer, cassette: Path
) -> None:
    async def main() -> list[int]:
        woke: list[int] = []

        async def one(i: int) -> None:
            await asyncio.sleep(0.05)
            woke.append(i)
            httpx.get(f"{server.url}/tool/{i}")

        await asyncio.gather(*(one(i) for i in range(10)))
        return woke

    with agentreplay.record(cassette):
        recorded = asyncio.run(main())
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = asyncio.run(main())
    assert recorded == replayed == list(range(10))
    assert run.result is not None and run.result.reproduced


def test_as_completed_makes_the_runs_coroutines_tasks_in_the_order_given(
    server: ToolServer, cassette: Path
) -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as http:

            async def fetch(i: int) -> None:
                await http.get(f"{server.url}/tool/{i}")

            for done in asyncio.as_completed([fetch(i) for i in range(12)]):
                await done

    with agentreplay.record(cassette):
        asyncio.run(main())
    with agentreplay.open(cassette) as opened:
        tasks = {info.name.rsplit("/", 1)[-1]: info.task for info in opened.step_infos()}
    assert tasks == {str(i): f"0.1.{i + 1}" for i in range(12)}
