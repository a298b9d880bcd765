"""Virtual time: a replayed run skips its waiting."""

from __future__ import annotations

import time

import agentreplay
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
