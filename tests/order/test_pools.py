"""Worker pools on a shared queue: each item gets its own recorded answer, every time."""

from __future__ import annotations

import asyncio
import queue
import threading
from pathlib import Path
from typing import Any

import openai

from agentreplay.demo.model_server import ModelServer
from tests.order.conftest import record_and_replay

ITEMS = 80
WORKERS = 8


DATA = Path(__file__).parent / "data"


def _ask(item: int) -> Any:
    return [{"role": "user", "content": f"Summarise ticket {item}"}]


def test_a_pool_of_threads_on_a_shared_queue_replays_item_by_item(
    model: ModelServer, cassette: Path
) -> None:
    url = f"{model.url}/v1"

    def pool() -> dict[int, tuple[str, str]]:
        work: queue.Queue[int] = queue.Queue()
        for item in range(ITEMS):
            work.put(item)
        answers: dict[int, tuple[str, str]] = {}
        client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)

        def worker() -> None:
            while True:
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    return
                stream = client.chat.completions.create(
                    model="gpt-test",
                    messages=_ask(item),
                    stream=True,
                )
                text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
                answers[item] = (threading.current_thread().name, text)

        threads = [threading.Thread(target=worker, name=f"w{n}") for n in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close()
        return answers

    recorded, replays = record_and_replay(cassette, pool, model.stop)
    assert sorted(recorded) == list(range(ITEMS))
    assert len({worker for worker, _ in recorded.values()}) > 1  # the work was shared
    assert replays == [recorded] * len(replays)


def test_a_pool_of_asyncio_workers_on_a_shared_queue_replays_item_by_item(
    model: ModelServer, cassette: Path
) -> None:
    url = f"{model.url}/v1"
    recorded, replays = record_and_replay(cassette, lambda: _asyncio_pool(url), model.stop)
    assert sorted(recorded) == list(range(ITEMS))
    assert len({worker for worker, _ in recorded.values()}) > 1
    assert replays == [recorded] * len(replays)


def _asyncio_pool(url: str) -> dict[int, tuple[int, str]]:
    async def pool() -> dict[int, tuple[int, str]]:
        work: asyncio.Queue[int] = asyncio.Queue()
        for item in range(ITEMS):
            work.put_nowait(item)
        answers: dict[int, tuple[int, str]] = {}
        async with openai.AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0) as client:

            async def worker(number: int) -> None:
                while True:
                    try:
                        item = work.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    stream = await client.chat.completions.create(
                        model="gpt-test", messages=_ask(item), stream=True
                    )
                    parts = [chunk.choices[0].delta.content or "" async for chunk in stream]
                    answers[item] = (number, "".join(parts))

            await asyncio.gather(*(worker(n) for n in range(WORKERS)))
        return answers

    return asyncio.run(pool())


def test_a_pool_recorded_under_load_replays_when_the_timeline_is_tied_again() -> None:
    # Recorded on a loaded machine: requests recorded later than the replay's clock
    # stands re-tie the loop's timeline while other workers' stream ends are pending.
    # Those must move with it, or a worker finishes early and takes another's ticket.
    import agentreplay
    from agentreplay.cassette import HttpRequest

    cassette = DATA / "pool_retied.cassette"
    with agentreplay.open(cassette) as opened:
        url = next(e.url for e in opened.events() if isinstance(e, HttpRequest))
    for _ in range(2):
        with agentreplay.replay(cassette) as run:
            answers = _asyncio_pool(url.rsplit("/chat", 1)[0])
        assert run.result is not None and run.result.reproduced, run.result
        assert sorted(answers) == list(range(ITEMS))
