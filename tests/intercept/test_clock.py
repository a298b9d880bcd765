"""The clock: wall-clock reads replay identically, machinery reads are left alone."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import sys
import threading
import time
from pathlib import Path
from time import time as early_bound_time  # bound before any session starts

import freezegun
import httpx
import pytest
import time_machine

import agentreplay
from agentreplay.cassette import ClockRead
from agentreplay.runtime import callers
from tests.servers import ToolServer


def _stamps() -> dict[str, object]:
    return {
        "prompt": f"Today is {dt.datetime.now():%A %d %B %Y, %H:%M:%S.%f}.",
        "utc": dt.datetime.now(dt.UTC).isoformat(),
        "today": dt.date.today().isoformat(),
        "time": time.time(),
        "time_ns": time.time_ns(),
        "early": early_bound_time(),
        "gmtime": time.strftime("%H:%M:%S", time.gmtime()),
        "monotonic": time.monotonic(),
        "perf": time.perf_counter(),
    }


def _clock_reads(path: Path) -> list[ClockRead]:
    with agentreplay.open(path) as cassette:
        return [e for e in cassette.events() if isinstance(e, ClockRead)]


def test_every_kind_of_clock_read_replays_identically(cassette: Path) -> None:
    with agentreplay.record(cassette):
        recorded = _stamps()
    time.sleep(0.01)
    with agentreplay.replay(cassette) as run:
        replayed = _stamps()
    assert replayed == recorded
    assert run.result is not None and run.result.reproduced
    assert _stamps() != recorded  # outside a session the clock is live again


def test_clock_reads_in_tasks_and_threads_replay_to_each_their_own(cassette: Path) -> None:
    def main() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}

        async def task(name: str) -> None:
            values = []
            for _ in range(3):
                values.append(time.time())
                await asyncio.sleep(0.001)
            out[name] = values

        async def gather() -> None:
            await asyncio.gather(*(task(f"task{i}") for i in range(4)))

        asyncio.run(gather())

        def thread(name: str) -> None:
            out[name] = [time.time() for _ in range(3)]

        threads = [threading.Thread(target=thread, args=(f"thread{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    with agentreplay.record(cassette):
        recorded = main()
    with agentreplay.replay(cassette):
        replayed = main()
    assert replayed == recorded


def test_only_agent_code_reads_of_monotonic_are_recorded(
    server: ToolServer, cassette: Path
) -> None:
    async def main() -> float:
        start = time.monotonic()
        async with httpx.AsyncClient() as client:
            for i in range(3):
                await client.get(f"{server.url}/tool/{i}")
                await asyncio.sleep(0.01)
        return time.monotonic() - start

    with agentreplay.record(cassette):
        elapsed = asyncio.run(main())
    reads = _clock_reads(cassette)
    # asyncio and httpcore read the monotonic clock many times; only our two reads count.
    assert [r.clock for r in reads if r.clock == "monotonic"] == ["monotonic", "monotonic"]
    server.stop()
    with agentreplay.replay(cassette):
        assert asyncio.run(main()) == elapsed


def test_time_machine_travel_inside_a_recording_wins_and_replays(cassette: Path) -> None:
    def main() -> tuple[float, float, float]:
        before = time.time()
        with time_machine.travel(dt.datetime(2001, 2, 3, tzinfo=dt.UTC), tick=False):
            travelled = time.time()
        return before, travelled, time.time()

    with agentreplay.record(cassette):
        recorded = main()
    assert recorded[1] == dt.datetime(2001, 2, 3, tzinfo=dt.UTC).timestamp()
    with agentreplay.replay(cassette):
        assert main() == recorded
    assert len(_clock_reads(cassette)) == 2  # the travelled read is time-machine's, not ours


def test_recording_inside_time_machine_records_the_travelled_time(cassette: Path) -> None:
    with time_machine.travel(dt.datetime(1999, 12, 31, tzinfo=dt.UTC), tick=False):
        with agentreplay.record(cassette):
            recorded = time.time()
    assert recorded == dt.datetime(1999, 12, 31, tzinfo=dt.UTC).timestamp()
    with agentreplay.replay(cassette):
        assert time.time() == recorded


def test_a_travel_started_before_a_recording_can_be_stopped_inside_it(cassette: Path) -> None:
    y2k = dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp()
    travel = time_machine.travel(y2k, tick=False)
    travel.start()
    with agentreplay.record(cassette):
        inside = time.time()
        travel.stop()  # stops the user's travel, not agentreplay's hook
        after_stop = time.time()
    assert inside == y2k
    assert after_stop > y2k + 10 * 365 * 86400  # the real clock again, still recorded
    assert abs(time.time() - after_stop) < 60  # not frozen after the session either
    assert time_machine.traveller_stack == []
    with agentreplay.replay(cassette):
        assert (time.time(), time.time()) == (inside, after_stop)


def test_freezegun_inside_a_recording_is_deterministic_and_not_recorded(cassette: Path) -> None:
    def main() -> tuple[str, str]:
        with freezegun.freeze_time("2020-01-01 12:00:00"):
            frozen = dt.datetime.now().isoformat()
        return frozen, dt.datetime.now().isoformat()

    with agentreplay.record(cassette):
        recorded = main()
    assert recorded[0] == "2020-01-01T12:00:00"
    with agentreplay.replay(cassette):
        assert main() == recorded
    # The frozen read is freezegun's; recorded are dateutil's read while parsing the
    # frozen date (a library reading on the agent's behalf) and the final live read.
    assert len(_clock_reads(cassette)) == 2


def test_the_agent_clocks_stay_recorded_after_a_freezegun_block_ends(cassette: Path) -> None:
    """freezegun puts back the functions it found at import when a block ends: the run's
    monotonic and perf_counter reads after the block are still recorded and replayed."""

    def main() -> tuple[float, ...]:
        with freezegun.freeze_time("2020-01-01 12:00:00"):
            frozen = time.time()
        return frozen, time.monotonic(), time.perf_counter(), time.time()

    with agentreplay.record(cassette):
        recorded = main()
    assert recorded[0] == dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC).timestamp()
    for _ in range(2):
        with agentreplay.replay(cassette) as run:
            assert main() == recorded
        assert run.result is not None and run.result.reproduced
    assert [r.clock for r in _clock_reads(cassette)][-3:] == ["monotonic", "perf_counter", "wall"]
    assert time.monotonic is not None and time.monotonic.__module__ != "agentreplay"
    assert freezegun.api.real_monotonic is time.monotonic  # nothing of ours left behind


def test_a_perf_counter_read_by_a_librarys_dataclass_is_not_the_agents(
    cassette: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataclass defined during a run takes the hooked ``time.perf_counter`` as its
    default factory; its generated __init__ reads it for whoever made the instance: a
    library here, so the read is not recorded (it would be in the first run only)."""
    library = tmp_path / "timing_library"
    library.mkdir()
    (library / "timed.py").write_text(
        "import dataclasses, time\n\n\n@dataclasses.dataclass\nclass Timed:\n"
        "    started: float = dataclasses.field(default_factory=time.perf_counter)\n\n\n"
        "def make() -> Timed:\n    return Timed()\n"
    )
    monkeypatch.setattr(callers, "extra_library_paths", [str(library)])
    monkeypatch.syspath_prepend(str(library))
    callers.classify("<string>")  # known already in any process that ran exec'd code
    with agentreplay.record(cassette):
        timed = importlib.import_module("timed")
        timed.make()
        agent_read = time.perf_counter()
    monkeypatch.delitem(sys.modules, "timed")
    assert agent_read > 0
    assert [r.clock for r in _clock_reads(cassette)] == ["perf_counter"]  # the agent's own
