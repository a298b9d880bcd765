"""record() and replay() in every usage style; patching is reversible and nestable."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay import UsageError
from tests.servers import ToolServer


def _patched_things() -> tuple[object, ...]:
    return (
        httpx.Client._transport_for_url,
        httpx.AsyncClient._transport_for_url,
        os.urandom,
        time.monotonic,
        time.sleep,
        random.Random.seed,
        asyncio.BaseEventLoop.create_task,
        threading.Thread.start,
    )


def test_import_patches_nothing_and_exit_restores_everything(
    server: ToolServer, cassette: Path
) -> None:
    before = _patched_things()
    with agentreplay.record(cassette):
        assert _patched_things() != before
        with agentreplay.record(cassette.with_name("inner.cassette")):
            httpx.get(f"{server.url}/tool/1")
        assert _patched_things() != before  # the outer session still holds them
    assert _patched_things() == before


def test_nested_session_takes_the_events(server: ToolServer, tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer.cassette", tmp_path / "inner.cassette"
    with agentreplay.record(outer):
        httpx.get(f"{server.url}/tool/1")
        with agentreplay.record(inner):
            httpx.get(f"{server.url}/tool/2")
    with agentreplay.open(outer) as a, agentreplay.open(inner) as b:
        assert [s.name.split("/")[-1] for s in a.step_infos()] == ["1"]
        assert [s.name.split("/")[-1] for s in b.step_infos()] == ["2"]


def test_decorators_record_and_replay_sync_functions(server: ToolServer, cassette: Path) -> None:
    @agentreplay.record(cassette)
    def agent(n: int) -> str:
        return str(httpx.get(f"{server.url}/tool/{n}").json()["answer"])

    assert agent(7) == "result-7"
    server.stop()
    replayed = agentreplay.replay(cassette)(agent.__wrapped__)  # type: ignore[attr-defined]
    assert replayed(7) == "result-7"
    with agentreplay.open(cassette) as opened:
        assert opened.outcome is not None
        assert opened.outcome.value == "result-7"


def test_decorators_and_async_context_managers_for_coroutines(
    server: ToolServer, cassette: Path
) -> None:
    async def agent(n: int) -> str:
        async with httpx.AsyncClient() as client:
            return str((await client.get(f"{server.url}/tool/{n}")).json()["answer"])

    assert asyncio.run(agentreplay.record(cassette)(agent)(3)) == "result-3"
    server.stop()

    async def replay_it() -> str:
        async with agentreplay.replay(cassette) as run:
            answer = await agent(3)
        # A with block has no return value to compare: ending without an exception, as
        # the recorded run did, reproduces it.
        assert run.result is not None and run.result.reproduced
        return answer

    assert asyncio.run(replay_it()) == "result-3"
    decorated = agentreplay.replay(cassette)
    assert asyncio.run(decorated(agent)(3)) == "result-3"
    assert decorated.result is not None and decorated.result.reproduced


def test_outcome_of_a_failing_run_is_reproduced(server: ToolServer, cassette: Path) -> None:
    def agent() -> None:
        data = httpx.get(f"{server.url}/tool/9").json()
        raise KeyError(data["answer"])

    with pytest.raises(KeyError), agentreplay.record(cassette):
        agent()
    server.stop()
    session = agentreplay.replay(cassette)
    with pytest.raises(KeyError, match="result-9"), session:
        agent()
    assert session.result is not None
    assert session.result.reproduced
    assert str(session.result) == "reproduced: KeyError('result-9') at step 1"


def test_a_different_outcome_is_not_reproduced(server: ToolServer, cassette: Path) -> None:
    with pytest.raises(ValueError), agentreplay.record(cassette):
        httpx.get(f"{server.url}/tool/1")
        raise ValueError("boom")
    server.stop()
    session = agentreplay.replay(cassette)
    with session:
        httpx.get(f"{server.url}/tool/1")
    assert session.result is not None and not session.result.reproduced
    assert "recorded ValueError('boom')" in str(session.result)


def test_bad_pace_and_mode_fail_loudly(cassette: Path) -> None:
    with pytest.raises(UsageError, match="pace"):
        agentreplay.replay(cassette, pace="fast")
    with pytest.raises(UsageError, match="unknown mode"):
        agentreplay.Mode.parse("sometimes")
