"""A replayed run that does not ask for something its recording asked for diverges at
once, naming what it skipped; it does not wait for a turn that can never come."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import agentreplay
from agentreplay import DivergenceError
from tests.servers import ToolServer

SHORT = 3.0
"""Seconds a thread may wait for its turn: a replay that waits for a turn nobody can
give, instead of diverging, then fails in seconds rather than after the default 30."""


@agentreplay.tool
def lookup(city: str) -> str:
    return f"sunny in {city}"


SKIPPABLE: dict[str, tuple[Callable[[], object], str]] = {
    "tool call": (lambda: lookup("Paris"), "the result of lookup()"),
    "clock read": (time.time, "a wall clock read"),
    "random draw": (lambda: os.urandom(4), "a draw of random bytes"),
}


def _record_then_replay(
    cassette: Path, agent: Callable[[bool], Any], stop: Callable[[], None]
) -> Any:
    """Record ``agent(False)``, ``stop`` the servers, replay ``agent(True)`` (the changed
    program) and return its result; a divergence propagates."""
    with agentreplay.record(cassette):
        agent(False)
    stop()
    with agentreplay.replay(cassette, order_timeout=SHORT) as run:
        agent(True)
    return run.result


@pytest.mark.parametrize("kind", SKIPPABLE)
def test_a_thread_that_skips_a_recorded_input_diverges_at_once_naming_it(
    server: ToolServer, cassette: Path, kind: str
) -> None:
    skippable, named = SKIPPABLE[kind]

    def agent(changed: bool) -> None:
        with httpx.Client() as client:
            client.get(f"{server.url}/tool/a")
            if not changed:
                skippable()
            client.get(f"{server.url}/tool/c")

    with pytest.raises(DivergenceError) as caught:
        _record_then_replay(cassette, agent, server.stop)
    error = caught.value
    assert error.task == "0"
    assert named in error.expected
    assert "/tool/c" in error.actual
    assert error.call_site is not None and error.call_site.filename == __file__
    assert "waited" not in str(error)  # not the turn that timed out


def test_the_divergence_names_the_skipped_step(server: ToolServer, cassette: Path) -> None:
    def agent(changed: bool) -> None:
        with httpx.Client() as client:
            client.get(f"{server.url}/tool/a")
            if not changed:
                lookup("Paris")
            client.get(f"{server.url}/tool/c")

    with pytest.raises(DivergenceError) as caught:
        _record_then_replay(cassette, agent, server.stop)
    assert caught.value.step == 2
    assert str(caught.value).startswith("replay diverged at step 2 (task 0): ")
    assert "expected: step 2 (task 0: the result of lookup())" in str(caught.value)


def test_an_async_task_that_skips_a_recorded_tool_call_diverges_at_once(
    server: ToolServer, cassette: Path
) -> None:
    async def main(changed: bool) -> None:
        async with httpx.AsyncClient() as client:
            await client.get(f"{server.url}/tool/a")
            if not changed:
                lookup("Paris")
            await client.get(f"{server.url}/tool/c")

    with pytest.raises(DivergenceError) as caught:
        _record_then_replay(cassette, lambda changed: asyncio.run(main(changed)), server.stop)
    assert "the result of lookup()" in caught.value.expected
    assert "/tool/c" in caught.value.actual


def test_a_thread_that_ends_without_its_recorded_request_fails_the_turn_after_it(
    server: ToolServer, cassette: Path
) -> None:
    def agent(changed: bool) -> None:
        with httpx.Client() as client:

            def side() -> None:
                if not changed:
                    client.get(f"{server.url}/tool/b")

            thread = threading.Thread(target=side)
            thread.start()
            thread.join()
            client.get(f"{server.url}/tool/c")

    with pytest.raises(DivergenceError) as caught:
        _record_then_replay(cassette, agent, server.stop)
    error = caught.value
    assert "task 0.1 ended" in str(error)
    assert "/tool/b" in error.expected
    assert "/tool/c" in error.actual
    assert "waited" not in str(error)


def test_a_thread_already_waiting_diverges_when_the_thread_it_waits_for_ends(
    server: ToolServer, cassette: Path
) -> None:
    def agent(changed: bool) -> None:
        go_on = threading.Event()
        with httpx.Client() as client:

            def side() -> None:
                go_on.wait(0.2 if changed else 0)  # ends after the other thread waits
                if not changed:
                    client.get(f"{server.url}/tool/b")

            thread = threading.Thread(target=side)
            thread.start()
            try:
                if not changed:
                    thread.join()
                client.get(f"{server.url}/tool/c")
            finally:
                go_on.set()
                thread.join()

    with pytest.raises(DivergenceError) as caught:
        _record_then_replay(cassette, agent, server.stop)
    assert "task 0.1 ended" in str(caught.value)
    assert "/tool/b" in caught.value.expected


def test_an_executor_job_that_skips_its_recorded_request_diverges(
    server: ToolServer, cassette: Path
) -> None:
    def agent(changed: bool) -> None:
        with httpx.Client() as client, ThreadPoolExecutor(2) as pool:

            def job() -> str:
                if not changed:
                    client.get(f"{server.url}/tool/b")
                return "done"

            pool.submit(job).result()
            client.get(f"{server.url}/tool/c")

    with pytest.raises(DivergenceError) as caught:
        _record_then_replay(cassette, agent, server.stop)
    assert "/tool/b" in caught.value.expected
    assert caught.value.task == "0.1"


def test_a_run_that_ends_early_reports_its_unused_calls(server: ToolServer, cassette: Path) -> None:
    def agent(changed: bool) -> None:
        with httpx.Client() as client:
            client.get(f"{server.url}/tool/a")
            if not changed:
                time.time()
                client.get(f"{server.url}/tool/c")

    result = _record_then_replay(cassette, agent, server.stop)
    assert result is not None and not result.reproduced
    assert "1 recorded calls were never made" in str(result)


def test_a_replay_that_is_not_strict_goes_on_past_a_skipped_input(
    server: ToolServer, cassette: Path
) -> None:
    def agent(changed: bool) -> list[str]:
        with httpx.Client() as client:
            answers = [client.get(f"{server.url}/tool/a").json()["answer"]]
            if not changed:
                lookup("Paris")
            answers.append(client.get(f"{server.url}/tool/c").json()["answer"])
            return answers

    with agentreplay.record(cassette):
        agent(False)
    server.stop()
    with agentreplay.replay(cassette, strict=False, order_timeout=SHORT) as run:
        answers = agent(True)
    assert answers == ["result-a", "result-c"]
    assert run.result is not None and "1 recorded calls were never made" in str(run.result)


def test_a_thread_waiting_behind_an_async_task_diverges_when_the_task_ends(
    server: ToolServer, cassette: Path
) -> None:
    def agent(changed: bool) -> None:
        async def side(client: httpx.AsyncClient) -> None:
            if not changed:
                await client.get(f"{server.url}/tool/b")

        def job() -> None:
            with httpx.Client() as client:
                client.get(f"{server.url}/tool/c")

        async def main() -> None:
            async with httpx.AsyncClient() as client:
                await asyncio.create_task(side(client))
                await asyncio.to_thread(job)

        asyncio.run(main())

    started = time.monotonic()
    with pytest.raises(DivergenceError) as caught:
        _record_then_replay(cassette, agent, server.stop)
    assert time.monotonic() - started < SHORT  # diverged at once, did not wait its turn out
    assert "task 0.1.1 ended" in str(caught.value)  # side(), in main() (task 0.1)
    assert "/tool/b" in caught.value.expected
