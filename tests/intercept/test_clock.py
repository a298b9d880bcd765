"""The clock: wall-clock reads replay identically, machinery reads are left alone."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import datetime as dt
import http.cookiejar as cookiejar
import importlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from time import time as early_bound_time  # bound before any session starts
from types import CodeType, FrameType, FunctionType, ModuleType
from typing import TypeVar

import freezegun
import httpcore._sync.http11
import httpx
import pytest
import tenacity
import time_machine

import agentreplay
from agentreplay.cassette import ClockRead
from agentreplay.intercept import clock
from agentreplay.runtime import callers, escape
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


def test_a_retry_library_that_stops_by_the_clock_retries_as_often_on_replay(
    server: ToolServer, cassette: Path
) -> None:
    # tenacity decides when to give up by time.monotonic(); on replay its waits take no
    # time, so unrecorded reads would say no time has passed, and it would retry on.
    @tenacity.retry(
        stop=tenacity.stop_after_delay(0.25),
        wait=tenacity.wait_fixed(0.1),
        retry=tenacity.retry_if_result(lambda status: status != 200),
        retry_error_callback=lambda state: f"gave up after {state.attempt_number}",
    )
    def call() -> int | str:  # the status, or what retry_error_callback returns
        return httpx.get(f"{server.url}/status/503").status_code

    with agentreplay.record(cassette):
        recorded = call()
    assert recorded in ("gave up after 3", "gave up after 4")
    server.stop()
    with agentreplay.replay(cassette) as run:
        assert call() == recorded
    assert run.result is not None and run.result.reproduced, run.result


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


_NO_PYTEST = """
import sys, time, datetime as dt
import agentreplay
with agentreplay.record(sys.argv[1]):
    before = time.time()
    import time_machine  # the program's own use of it still works
    with time_machine.travel(dt.datetime(2001, 2, 3, tzinfo=dt.UTC), tick=False):
        travelled = time.time()
print("pytest" in sys.modules, travelled, time.time() > before)
"""


def test_a_program_that_never_imported_pytest_records_without_it(tmp_path: Path) -> None:
    """time-machine imports pytest, when installed, for its fixture (12 MB): a recording
    keeps it out of a program that has not imported pytest itself."""
    done = subprocess.run(
        [sys.executable, "-c", _NO_PYTEST, str(tmp_path / "run.cassette")],
        capture_output=True,
        text=True,
        check=True,
    )
    stamp = dt.datetime(2001, 2, 3, tzinfo=dt.UTC).timestamp()
    assert done.stdout.split() == ["False", str(stamp), "True"], done.stderr


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


# -- reads by machinery: a stand-in ``time`` module, no hook on the way --------------

T = TypeVar("T")


def _hook_calls(run: Callable[[], T]) -> tuple[T, list[str]]:
    """What ``run`` returns, and the file of each caller of agentreplay's clock hooks
    during it (in this thread)."""
    hooks = {clock._WallClock.time_ns.__code__, clock._agent_clock("time", time.time).__code__}
    callers: list[str] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code in hooks and frame.f_back is not None:
            callers.append(frame.f_back.f_code.co_filename)

    sys.setprofile(profile)
    try:
        result = run()
    finally:
        sys.setprofile(None)
    return result, callers


def _machinery_reads(module: ModuleType) -> Callable[[], tuple[float, float]]:
    """A function of ``module`` (its globals, its file) reading the clock as it does."""
    source = "def reads():\n    return time.time(), time.monotonic()\n"
    code = compile(source, module.__file__ or "", "exec").co_consts[0]
    assert isinstance(code, CodeType)
    reads: Callable[[], tuple[float, float]] = FunctionType(code, module.__dict__)
    return reads


def test_http_machinery_reads_in_a_recording_never_reach_the_hooks(
    server: ToolServer, cassette: Path
) -> None:
    """httpcore's keep-alive checks, httpx's cookie jar and asyncio's loop read the real
    clock without going through the hooks; the agent's own reads are recorded as before."""

    def main() -> tuple[float, float]:
        start = time.time(), time.monotonic()
        with httpx.Client() as client:
            for i in range(3):
                client.get(f"{server.url}/tool/{i}")

        async def fetch() -> None:
            async with httpx.AsyncClient() as client:
                for i in range(3):
                    await client.get(f"{server.url}/tool/{i}")
                    await asyncio.sleep(0.001)

        asyncio.run(fetch())
        return start

    with agentreplay.record(cassette):
        recorded, callers = _hook_calls(main)
    assert callers == [__file__, __file__]  # the agent's two reads, and nothing else
    assert [r.clock for r in _clock_reads(cassette)] == ["wall", "monotonic"]
    server.stop()
    with agentreplay.replay(cassette) as run:
        assert main() == recorded
    assert run.result is not None and run.result.reproduced


def test_machinery_modules_get_their_time_module_back_when_the_last_session_stops(
    tmp_path: Path,
) -> None:
    machinery = (cookiejar, asyncio.base_events, httpcore._sync.http11)
    with agentreplay.record(tmp_path / "outer.cassette"):
        assert all(m.time is not time for m in machinery)
        assert all(m.time.sleep is time.sleep for m in machinery)  # vtime's, when replaying
        with agentreplay.record(tmp_path / "inner.cassette"):
            pass
        assert all(m.time is not time for m in machinery)  # the outer session still runs
    assert all(m.time is time for m in machinery)


def _clocked_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origin: callers.Origin, *names: str
) -> None:
    """Modules ``names`` that ``import time`` and read it in ``reads()``, of ``origin``."""
    folder = tmp_path / "clocked"
    folder.mkdir()
    for name in names:
        path = folder / f"{name}.py"
        path.write_text("import time\n\n\ndef reads():\n    return time.time(), time.monotonic()\n")
        monkeypatch.setitem(callers._cache, str(path), origin)
        monkeypatch.delitem(sys.modules, name, raising=False)  # none left behind, at the end
    monkeypatch.syspath_prepend(str(folder))


def test_a_machinery_module_first_imported_during_a_recording_reads_the_real_clock(
    cassette: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clocked_modules(tmp_path, monkeypatch, callers.Origin.MACHINERY, "clocked_pool")
    with agentreplay.record(cassette):
        pool = importlib.import_module("clocked_pool")
        assert pool.time is not time
        (wall, _), hooked = _hook_calls(pool.reads)
        assert hooked == [] and abs(wall - escape.time_ns() / 1e9) < 60
        _, hooked = _hook_calls(cookiejar.CookieJar().clear_expired_cookies)  # time.time()
        assert hooked == []
    assert pool.time is time
    assert _clock_reads(cassette) == []


def test_a_librarys_wall_clock_reads_are_recorded_and_its_monotonic_reads_are_not(
    cassette: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library (an SDK) gets a stand-in for its monotonic clocks only: its wall-clock
    reads, made in a module loaded before the session or during it, still reach the
    hook, are recorded, and replay."""
    _clocked_modules(tmp_path, monkeypatch, callers.Origin.LIBRARY, "sdk_before", "sdk_during")
    before = importlib.import_module("sdk_before")

    def main() -> list[tuple[float, float]]:
        during = importlib.import_module("sdk_during")
        assert before.time is not time and during.time is not time
        return [before.reads(), during.reads()]

    with agentreplay.record(cassette):
        recorded = main()
    assert before.time is time
    assert [r.clock for r in _clock_reads(cassette)] == ["wall", "wall"]
    del sys.modules["sdk_during"]
    with agentreplay.replay(cassette) as run:
        replayed = main()
    assert [wall for wall, _ in replayed] == [wall for wall, _ in recorded]
    assert run.result is not None and run.result.reproduced


def test_machinery_reads_follow_a_travel_or_a_freeze_started_around_them(
    cassette: Path,
) -> None:
    reads = _machinery_reads(cookiejar)
    y2k = dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp()
    with time_machine.travel(y2k, tick=False), agentreplay.record(cassette):
        travelled_before, _ = reads()  # a travel started before the session: read through
    assert travelled_before == y2k
    with agentreplay.record(cassette):
        with time_machine.travel(dt.datetime(2001, 2, 3, tzinfo=dt.UTC), tick=False):
            travelled, _ = reads()
        with freezegun.freeze_time(dt.datetime(2020, 1, 1, 12)):
            (frozen, frozen_monotonic), (_, frozen_again) = reads(), reads()
        live, _ = reads()
    assert travelled == dt.datetime(2001, 2, 3, tzinfo=dt.UTC).timestamp()
    assert frozen == dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC).timestamp()
    assert frozen_monotonic == frozen_again  # freezegun's monotonic clock stands still
    assert abs(live - escape.time_ns() / 1e9) < 60
    assert _clock_reads(cassette) == []
