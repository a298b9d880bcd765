"""Virtual time: a replayed run skips its waiting."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import agentreplay
from agentreplay.runtime import escape
from tests.data.sleepy_agent import CASSETTE, run

_real_clock = time.perf_counter  # bound before any session: not replayed


def test_forty_seconds_of_sleeps_and_timeouts_replay_in_under_a_second() -> None:
    with agentreplay.open(CASSETTE) as cassette:
        assert cassette.outcome is not None
        recorded = cassette.outcome.value
    assert recorded["elapsed"] == 40 and recorded["timed_out"] is True
    started = _real_clock()
    session = agentreplay.replay(CASSETTE)
    replayed = session(run)()
    wall = _real_clock() - started
    assert replayed == recorded
    assert wall < 1.0
    assert session.result is not None and session.result.reproduced


def test_paced_replay_takes_time_in_proportion() -> None:
    started = _real_clock()
    agentreplay.replay(CASSETTE, pace=40.0)(run)()  # 40 s of waiting at 40x: about 1 s
    assert 0.8 < _real_clock() - started < 5


def test_a_loop_that_outlives_its_replay_runs_in_real_time_again(tmp_path: Path) -> None:
    """Another session (production capture, an outer recording) keeps the hooks installed
    after a replay ends: the loop the replay ran on must not stay on its virtual clock."""

    async def nap() -> None:
        await asyncio.sleep(0.05)

    loop = asyncio.new_event_loop()
    try:
        with agentreplay.record(tmp_path / "nap.cassette"):
            loop.run_until_complete(nap())
        with agentreplay.record(tmp_path / "outer.cassette"):
            with agentreplay.replay(tmp_path / "nap.cassette") as replayed:
                loop.run_until_complete(nap())
            assert replayed.result is not None and replayed.result.reproduced
            before = loop.time()
            escape.sleep(0.2)
            assert loop.time() - before >= 0.15
    finally:
        loop.close()
