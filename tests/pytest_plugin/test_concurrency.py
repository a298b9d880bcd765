"""Async tests (pytest-asyncio) and parallel workers (pytest-xdist)."""

from __future__ import annotations

import pytest

from tests.pytest_plugin.project import cassettes, header, make_project, summary

pytest_plugins = ["pytester"]

ASYNC_TESTS = """
import asyncio

import httpx
import pytest

from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import current_task


@pytest.mark.asyncio
async def test_gather(server, agent_cassette):
    assert active_session() is agent_cassette.session
    assert current_task() is not None and current_task().owner is agent_cassette.session
    before = len(server.hits)
    async with httpx.AsyncClient() as client:
        async def ask(n):
            await asyncio.sleep(0.01 * (3 - n))  # finish in another order than started
            response = await client.post(f"{server.url}/tool/{n}", json={"n": n})
            return response.json()["echo"]["n"]

        assert await asyncio.gather(*(ask(n) for n in range(3))) == [0, 1, 2]
    assert len(server.hits) - before == (0 if agent_cassette.mode == "replay" else 3)
"""


def test_async_tests_run_inside_the_session(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_async=ASYNC_TESTS)
    pytester.runpytest().assert_outcomes(passed=1)
    assert cassettes(pytester) == ["cassettes/test_async/test_gather.cassette"]
    replayed = pytester.runpytest("--agentreplay-mode=replay")
    replayed.assert_outcomes(passed=1)
    assert summary(replayed) == ["1 cassette replayed"]


PARALLEL_TESTS = """
import httpx
import pytest


@pytest.mark.parametrize("n", range(6))
def test_tool(server, agent_cassette, n):
    before = len(server.hits)
    assert httpx.post(f"{server.url}/tool/{n}", json={"n": n}).json()["echo"] == {"n": n}
    assert len(server.hits) - before == (0 if agent_cassette.mode == "replay" else 1)
"""


def test_xdist_workers_write_each_cassette_once_then_replay_them(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_parallel=PARALLEL_TESTS)
    recorded = pytester.runpytest_subprocess("-n", "2")
    recorded.assert_outcomes(passed=6)
    expected = [f"cassettes/test_parallel/test_tool[{n}].cassette" for n in range(6)]
    assert cassettes(pytester) == expected  # no .tmp left behind
    lines = summary(recorded)
    assert sorted(lines) == sorted(f"recorded {path} (no cassette yet)" for path in expected)
    for n, path in enumerate(expected):
        nodeid = header(pytester.path / path)["metadata"]["pytest"]["nodeid"]
        assert nodeid == f"test_parallel.py::test_tool[{n}]"
    mtimes = [(pytester.path / path).stat().st_mtime_ns for path in expected]

    replayed = pytester.runpytest_subprocess("-n", "2", "--agentreplay-mode=replay")
    replayed.assert_outcomes(passed=6)
    assert summary(replayed) == ["6 cassettes replayed"]
    assert [(pytester.path / path).stat().st_mtime_ns for path in expected] == mtimes
