"""Concurrent runs in one process, each captured alone: a task group, a thread pool."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import threading
from pathlib import Path
from typing import Any

import pytest

import agentreplay
from agentreplay import capture
from agentreplay.demo.model_server import ModelServer
from tests.capture.agent import FAIL_EVERY, AgentFailed, ask, ask_async, async_clients
from tests.capture.helpers import manifest, question_of, steps
from tests.servers import ToolServer


def _check_kept(sink: Path, numbers: range) -> dict[int, dict[str, Any]]:
    """Every failed run, and only those, has a cassette holding its own steps only."""
    entries = manifest(sink)
    by_name = {int(e["name"].removeprefix("q")): e for e in entries}
    assert len(by_name) == len(entries)
    assert set(by_name) == {n for n in numbers if n % FAIL_EVERY == 0}
    for n, entry in by_name.items():
        assert entry["kept"] == "error" and entry["error"] == "tests.capture.agent.AgentFailed"
        assert question_of(sink / entry["key"]) == {n}
        assert steps(sink / entry["key"]) == ["llm", "http", "llm"]
    return by_name


def test_a_task_group_of_twenty_runs_keeps_each_failure_alone_and_replays_it(
    tmp_path: Path,
    agent_env: dict[str, str],
    model_server: ModelServer,
    tool_server: ToolServer,
) -> None:
    sink = tmp_path / "runs"
    capture.enable(str(sink))
    numbers = range(1, 21)

    async def main() -> dict[int, str]:
        client, http = async_clients()
        outcomes: dict[int, str] = {}

        async def one(n: int) -> None:
            async with capture.run(name=f"q{n}", metadata={"n": n}):
                try:
                    outcomes[n] = (await ask_async(n, client, http))["answer"]
                except AgentFailed as exc:
                    outcomes[n] = str(exc)
                    raise

        async with asyncio.TaskGroup() as group:
            for n in numbers:
                group.create_task(_swallow(one(n)))
        await http.aclose()
        await client.close()
        return outcomes

    outcomes = asyncio.run(main())
    assert capture.flush(10)
    by_name = _check_kept(sink, numbers)
    stats = capture.stats()
    assert stats.runs == 20 and stats.kept == {"error": 4} and stats.dropped == {"not_kept": 16}

    model_server.stop()
    tool_server.stop()
    for n, entry in by_name.items():

        async def again(n: int, cassette: Path) -> agentreplay.ReplayResult | None:
            client, http = async_clients()
            replayed = agentreplay.replay(cassette)
            with pytest.raises(AgentFailed, match=f"question {n}$"):
                async with replayed:
                    await ask_async(n, client, http)
            return replayed.result

        result = asyncio.run(again(n, sink / entry["key"]))
        assert result is not None and result.reproduced, result
        assert outcomes[n] == f"I refuse to answer question {n}"


async def _swallow(work: Any) -> None:
    with contextlib.suppress(AgentFailed):
        await work


def test_a_pool_of_eight_worker_threads_keeps_each_failure_alone_and_replays_it(
    tmp_path: Path,
    agent_env: dict[str, str],
    model_server: ModelServer,
    tool_server: ToolServer,
) -> None:
    sink = tmp_path / "runs"
    capture.enable(str(sink))
    numbers = range(1, 41)
    jobs: queue.Queue[int | None] = queue.Queue()
    answers: dict[int, Any] = {}

    def worker() -> None:
        while (n := jobs.get()) is not None:
            try:
                with capture.run(name=f"q{n}"):
                    answers[n] = ask(n)
            except AgentFailed as exc:
                answers[n] = exc

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for thread in workers:
        thread.start()
    for n in numbers:
        jobs.put(n)
    for _ in workers:
        jobs.put(None)
    for thread in workers:
        thread.join()
    assert capture.flush(10)
    by_name = _check_kept(sink, numbers)

    model_server.stop()
    tool_server.stop()
    for n, entry in by_name.items():
        replayed = agentreplay.replay(sink / entry["key"])
        with pytest.raises(AgentFailed, match=f"question {n}$"):
            with replayed:
                ask(n)
        assert replayed.result is not None and replayed.result.reproduced, replayed.result


def test_captured_runs_leave_the_applications_global_random_alone(
    tmp_path: Path, agent_env: dict[str, str]
) -> None:
    capture.enable(str(tmp_path / "runs"), keep="all")
    random.seed(1234)
    expected = random.Random(1234)
    drawn = []

    def one(n: int) -> None:
        with capture.run(name=f"q{n}"):
            drawn.append(random.random())  # the run's own generator, recorded

    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [random.random() for _ in range(3)] == [expected.random() for _ in range(3)]
    assert len(set(drawn)) == 4
