from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import agentreplay
from agentreplay.cassette import ClockRead, Event, HttpChunk, HttpEnd, HttpRequest, HttpResponse

from .helpers import read_until_damage, write

WRITER = textwrap.dedent("""
    import sys
    from agentreplay.cassette import CassetteWriter, ClockRead
    writer = CassetteWriter(sys.argv[1], {"crash": True}, flush_events=64,
                            flush_interval=0.01)
    seq = 0
    while True:
        writer.append(ClockRead("0", seq, seq, "wall", seq * 1000))
        seq += 1
""")


def test_writer_killed_with_sigkill_leaves_a_readable_cassette(tmp_path: Path) -> None:
    path = tmp_path / "killed.cassette"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    try:
        deadline = time.monotonic() + 30
        while (not path.exists() or path.stat().st_size < 200_000) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    events, _ = read_until_damage(path)
    assert len(events) > 1000
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(isinstance(e, ClockRead) and e.value == e.seq * 1000 for e in events)
    with agentreplay.open(path) as cassette:
        assert not cassette.closed_cleanly


def _long_run(steps: int) -> list[Event]:
    events: list[Event] = []
    for n in range(steps):
        seq = n * 4
        events += [
            HttpRequest("0", seq, seq, "GET", f"http://tools/{n}", (), b"", "httpx"),
            HttpResponse("0", seq + 1, seq + 1, seq, 200, (), "HTTP/1.1", "OK"),
            HttpChunk("0", seq + 2, seq + 2, seq, b"result %d " % n * 20),
            HttpEnd("0", seq + 3, seq + 3, seq, True),
        ]
    return events


def test_jumping_to_step_n_decompresses_only_its_frames(tmp_path: Path) -> None:
    path = tmp_path / "long.cassette"
    events = _long_run(1000)
    write(path, events)
    with agentreplay.open(path) as cassette:
        assert len(cassette.step_infos()) == 1000
        assert cassette.step(700) == events[2796:2800]
        assert cassette.frames_decompressed == 1
        assert cassette.step(3) == events[8:12]
        assert cassette.frames_decompressed == 2


def test_step_with_large_body_reads_only_the_blob_frames_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "blobs.cassette"
    events = _long_run(50)
    big = HttpRequest("0", 1000, 1000, "POST", "http://llm/v1", (), b"x" * 10_000, "httpx")
    events.append(big)
    write(path, events)
    with agentreplay.open(path) as cassette:
        assert cassette.step(51) == [big]
        assert cassette.frames_decompressed == 2  # its events frame and one blob frame


def test_cassette_steps_are_the_decoded_step_model(tmp_path: Path) -> None:
    path = tmp_path / "steps.cassette"
    events = _long_run(3)
    write(path, events)
    with agentreplay.open(path) as cassette:
        steps = list(cassette.steps())
    assert [(s.number, s.kind, s.url, s.http_status) for s in steps] == [
        (n, "http", f"http://tools/{n - 1}", 200) for n in (1, 2, 3)
    ]
