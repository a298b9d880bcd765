"""@agentreplay.tool: recorded results, bodies that do not run on replay."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay import DivergenceError, RecordingError
from tests.servers import ToolServer

calls = {"query": 0, "fail": 0, "async": 0}


@agentreplay.tool
def query_db(sql: str, limit: int = 10) -> list[dict[str, object]]:
    calls["query"] += 1
    return [{"sql": sql, "row": i, "at": dt.datetime.now().isoformat()} for i in range(limit)]


@agentreplay.tool(name="lookup")
def failing_lookup(key: str) -> str:
    calls["fail"] += 1
    raise LookupError(f"no such key: {key}")


@agentreplay.tool
async def fetch_profile(user: str) -> dict[str, object]:
    calls["async"] += 1
    await asyncio.sleep(0)
    return {"user": user, "id": calls["async"]}


@agentreplay.tool
def returns_a_set() -> set[int]:
    return {1, 2}


def _agent() -> dict[str, object]:
    rows = query_db("select * from flights", limit=3)
    try:
        failing_lookup("city")
        error = ""
    except LookupError as exc:
        error = f"{type(exc).__name__}: {exc}"
    profile = asyncio.run(fetch_profile("ada"))
    return {"rows": rows, "error": error, "profile": profile}


def test_tool_bodies_do_not_run_on_replay_and_results_are_identical(cassette: Path) -> None:
    calls.update(query=0, fail=0, **{"async": 0})
    with agentreplay.record(cassette):
        recorded = _agent()
    assert calls == {"query": 1, "fail": 1, "async": 1}
    with agentreplay.replay(cassette) as run:
        replayed = _agent()
    assert calls == {"query": 1, "fail": 1, "async": 1}  # called 0 times on replay
    assert replayed == recorded
    assert recorded["error"] == "LookupError: no such key: city"
    assert run.result is not None and run.result.reproduced


def test_a_changed_argument_is_a_divergence(cassette: Path) -> None:
    with agentreplay.record(cassette):
        query_db("select 1", limit=1)
    with pytest.raises(DivergenceError) as info, agentreplay.replay(cassette):
        query_db("select 2", limit=1)
    assert "$.args[0]: 'select 1' != 'select 2'" in str(info.value)
    assert info.value.step == 1


def test_a_result_msgpack_cannot_hold_is_a_clear_error(cassette: Path) -> None:
    with (
        pytest.raises(RecordingError, match=r"returns_a_set\(\).*builtins\.set"),
        agentreplay.record(cassette),
    ):
        returns_a_set()


def test_http_inside_a_tool_is_not_recorded_separately(server: ToolServer, cassette: Path) -> None:
    @agentreplay.tool
    def weather(city: str) -> str:
        return str(httpx.get(f"{server.url}/tool/{city}").json()["answer"])

    with agentreplay.record(cassette):
        assert weather("paris") == "result-paris"
        httpx.get(f"{server.url}/tool/after")
    server.stop()
    with agentreplay.replay(cassette) as run:
        assert weather("paris") == "result-paris"
        httpx.get(f"{server.url}/tool/after")
    assert run.result is not None and run.result.reproduced
    with agentreplay.open(cassette) as opened:
        assert [info.kind for info in opened.step_infos()] == ["tool", "http"]


@agentreplay.tool
def shuffle_rows(rows: list[int]) -> list[int]:
    random.shuffle(rows)  # the body draws from random, and does not run on replay
    return rows


def _jittery_agent() -> list[object]:
    def worker() -> list[object]:
        before = random.random()
        rows = shuffle_rows(list(range(8)))
        rows.append(-1)  # the caller changes the result: the cassette keeps what was returned
        return [before, rows, random.random(), random.randint(1, 10**9)]

    with ThreadPoolExecutor(1) as pool:  # in a child task and in the root task
        child = pool.submit(worker).result()
    return [worker(), child]


def test_draws_inside_a_tool_body_do_not_shift_the_runs_random(cassette: Path) -> None:
    with pytest.warns(RuntimeWarning, match=r"shuffle_rows\(\) changed its arguments in place"):
        with agentreplay.record(cassette):
            recorded = _jittery_agent()
    with agentreplay.replay(cassette) as run:
        replayed = _jittery_agent()
    assert replayed == recorded
    assert run.result is not None and run.result.reproduced
