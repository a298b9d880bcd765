"""A fork is live after its fork point: sleeps wait, clocks move, entropy is fresh."""

from __future__ import annotations

import time
from pathlib import Path

import agentreplay
from agentreplay.cassette import ClockRead, EntropyDraw
from tests.debugger.conftest import agentreplay_cli, record_script
from tests.servers import ToolServer

AGENT = """\
import sys, time, uuid
import httpx

URL = sys.argv[1]
begin = time.monotonic()
httpx.get(URL + "/tool/one")                         # step 1
start = time.monotonic()
time.sleep(2)
print(f"slept {time.monotonic() - start:.2f} s", uuid.uuid4())
httpx.get(URL + "/tool/two")                         # step 2
"""


def _slept(output: str) -> tuple[float, str]:
    line = next(line for line in output.splitlines() if line.startswith("slept "))
    _, seconds, _, uuid = line.split()
    return float(seconds), uuid


def test_a_fork_after_step_1_really_sleeps_and_records_it(
    server: ToolServer, tmp_path: Path
) -> None:
    cassette, recorded = record_script(tmp_path, AGENT, server.url)
    fork = tmp_path / "fork.cassette"
    started = time.monotonic()
    forked = agentreplay_cli(
        "replay", str(cassette), "--live-after", "1", "-o", str(fork), cwd=tmp_path
    )
    took = time.monotonic() - started
    assert forked.returncode == 0, forked.stderr
    assert took >= 2.0
    slept, uuid = _slept(forked.stdout)
    assert slept >= 2.0
    assert uuid != _slept(recorded)[1]  # fresh entropy after the fork point
    with agentreplay.open(fork) as opened:
        events = list(opened.events())
    reads = [e.value for e in events if isinstance(e, ClockRead) and e.clock == "monotonic"]
    assert len(reads) == 3 and reads[2] - reads[1] >= 2.0  # the sleep, in the fork's cassette
    assert any(isinstance(e, EntropyDraw) and e.source == "urandom" for e in events)


def test_a_plain_replay_of_the_same_run_does_not_wait(server: ToolServer, tmp_path: Path) -> None:
    cassette, recorded = record_script(tmp_path, AGENT, server.url)
    server.stop()
    replayed = agentreplay_cli("replay", str(cassette), cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    assert _slept(replayed.stdout) == _slept(recorded)  # the recorded values, again


def test_the_forks_clock_goes_on_from_the_recorded_instant(
    server: ToolServer, tmp_path: Path
) -> None:
    cassette, _ = record_script(tmp_path, AGENT, server.url)
    with agentreplay.open(cassette) as opened:
        recorded = [e.value for e in opened.events() if isinstance(e, ClockRead)]
    fork = tmp_path / "fork.cassette"
    agentreplay_cli("replay", str(cassette), "--live-after", "1", "-o", str(fork), cwd=tmp_path)
    with agentreplay.open(fork) as opened:
        forked = [e.value for e in opened.events() if isinstance(e, ClockRead)]
    # The read before the fork point is replayed; the first one after it goes on from
    # there (moments later, as recorded), not from this process's own monotonic clock,
    # which the sleeps of the recording and the fork have moved on by seconds.
    assert forked[0] == recorded[0]
    assert 0 <= forked[1] - forked[0] < 1.0
    assert time.monotonic() - forked[0] > 4.0


def test_a_fork_whose_live_part_raises_exits_4_and_says_so(
    server: ToolServer, tmp_path: Path
) -> None:
    cassette, _ = record_script(tmp_path, AGENT, server.url)
    server.stop()  # step 2 goes live to a server that is gone
    forked = agentreplay_cli(
        "replay", str(cassette), "--live-after", "1", "-o", str(tmp_path / "f.cassette"),
        cwd=tmp_path,
    )  # fmt: skip
    assert forked.returncode == 4, forked.stderr
    assert "agentreplay: what-if (live after step 1): the run raised ConnectError(" in forked.stdout


def test_a_what_if_that_runs_to_its_end_exits_0(server: ToolServer, tmp_path: Path) -> None:
    cassette, _ = record_script(tmp_path, AGENT, server.url)
    server.stop()
    changed = agentreplay_cli(
        "replay", str(cassette), "--override", '2={"status": 200, "body": {"x": 1}}',
        cwd=tmp_path,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert "what-if (step 2 overridden): the run exited with status 0" in changed.stdout


PACED = """\
import asyncio, sys, time
import httpx

URL = sys.argv[1]
time.sleep(0.5)                                      # before step 1: replayed, paced
httpx.get(URL + "/tool/one")                         # step 1
start = time.monotonic()


async def wait() -> str:
    try:
        await asyncio.wait_for(asyncio.sleep(30), 0.6)
    except TimeoutError:
        return "timed out"
    return "slept"


print(asyncio.run(wait()), f"after {time.monotonic() - start:.2f} s")
print(httpx.get(URL + "/tool/two").json()["answer"])  # step 2
"""


def test_a_paced_fork_paces_the_replayed_part_and_waits_for_real_after_it(
    server: ToolServer, tmp_path: Path
) -> None:
    cassette, _ = record_script(tmp_path, PACED, server.url)
    fork = tmp_path / "fork.cassette"
    started = time.monotonic()
    forked = agentreplay_cli(
        "replay", str(cassette), "--pace", "0.2", "--live-after", "1", "-o", str(fork),
        cwd=tmp_path,
    )  # fmt: skip
    took = time.monotonic() - started
    assert forked.returncode == 0, forked.stderr
    # The live timeout fired after its real 0.6 s, not at once and not at the pace's
    # 0.2 speed (3 s), and the replayed half-second sleep took 0.5 / 0.2 = 2.5 s.
    line = next(line for line in forked.stdout.splitlines() if line.startswith("timed out"))
    waited = float(line.split()[3])
    assert 0.6 <= waited < 3.0
    assert took >= 2.5 + 0.6
    with agentreplay.open(fork) as opened:
        reads = [e.value for e in opened.events() if isinstance(e, ClockRead)]
    assert reads[-1] - reads[-2] >= 0.6  # the live wait, in the fork's cassette
    assert "result-two" in forked.stdout.splitlines()  # step 2, live


def test_a_what_if_whose_run_raises_exits_4_and_says_so(server: ToolServer, tmp_path: Path) -> None:
    quick = PACED.replace("time.sleep(0.5)", "pass").replace("0.6)", "0.01)")
    cassette, _ = record_script(tmp_path, quick, server.url)
    server.stop()
    changed = agentreplay_cli(
        "replay", str(cassette), "--override", '2={"status": 200, "body": {"x": 1}}',
        cwd=tmp_path,
    )  # fmt: skip
    assert changed.returncode == 4, changed.stderr
    assert (
        "agentreplay: what-if (step 2 overridden): the run raised KeyError('answer'); "
        "the recording: exited with status 0"
    ) in changed.stdout
    assert "KeyError: 'answer'" in changed.stderr  # the run's own traceback
