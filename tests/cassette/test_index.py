"""The index of steps written out in steps frames as the recording goes (format 4)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import agentreplay
from agentreplay.cassette import (
    CassetteWriter,
    Event,
    HttpChunk,
    HttpEnd,
    HttpRequest,
    HttpResponse,
    StepEnd,
    StepStart,
)
from agentreplay.cassette.frames import FRAME_STEPS, FrameReader
from agentreplay.cassette.tracking import StepInfo, StepTracker
from agentreplay.errors import CassetteWarning


def _run(spans: int, calls_per_span: int = 3) -> list[Event]:
    """Spans each holding a few HTTP exchanges: steps close out of their numbering order."""
    events: list[Event] = []
    for s in range(spans):
        start = len(events)
        events.append(StepStart("0", start, start * 10, f"span {s}"))
        for c in range(calls_per_span):
            q = len(events)
            events += [
                HttpRequest("0", q, q * 10, "GET", f"http://tools/{s}/{c}", (), b"", "httpx"),
                HttpResponse("0", q + 1, q * 10 + 10, q, 200, (), "HTTP/1.1", "OK"),
                HttpChunk("0", q + 2, q * 10 + 20, q, b"answer %d" % c),
                HttpEnd("0", q + 3, q * 10 + 30, q, True),
            ]
        q = len(events)
        events.append(StepEnd("0", q, q * 10, start, None))
    q = len(events)
    events.append(StepStart("0", q, q * 10, "left open"))
    return events


def _write(path: Path, events: list[Event], **options: Any) -> None:
    writer = CassetteWriter(path, {"test": True}, **options)
    for i, event in enumerate(events):
        writer.append(event)
        if not options.get("background", True) and i % 50 == 49:
            writer.flush()
        elif i % 50 == 49:
            time.sleep(0.01)  # let the background thread cut frames as it goes
    writer.close()


def _raw_index(path: Path) -> tuple[dict[str, Any], list[int]]:
    with open(path, "rb") as file:
        frames = FrameReader(file)
        offset = frames.read_footer()
        assert offset is not None
        index = frames.read_index(offset)
    steps_frames = [o for o, kind, _ in index["frames"] if kind == FRAME_STEPS]
    return index, steps_frames


def _infos(path: Path) -> list[StepInfo]:
    with agentreplay.open(path) as cassette:
        assert cassette.closed_cleanly
        return cassette.step_infos()


@pytest.mark.parametrize("background", [False, True])
def test_the_index_of_a_long_recording_is_written_out_in_steps_frames(
    tmp_path: Path, background: bool
) -> None:
    events = _run(60)  # 60 spans of 3 exchanges, and a span left open: 241 steps
    whole, written = tmp_path / "whole.cassette", tmp_path / "written.cassette"
    _write(whole, events, background=False, steps_frame=10_000)
    _write(written, events, background=background, steps_frame=16, flush_interval=0.001)

    index, steps_frames = _raw_index(written)
    assert len(steps_frames) >= 5  # a frame per flush that closed 16 steps or more
    assert len(index["steps"]) < 16 + 2  # the last closed ones and the open one
    assert _raw_index(whole)[1] == []

    infos = _infos(written)
    assert [i.number for i in infos] == list(range(1, 242))
    expected = _infos(whole)
    assert [(i.kind, i.name, i.parent, i.start_at, i.end_at) for i in infos] == [
        (i.kind, i.name, i.parent, i.start_at, i.end_at) for i in expected
    ]
    assert infos[-1].end_at is None and infos[-1].name == "left open"
    with agentreplay.open(whole) as cassette:
        numbered = list(cassette.events_with_steps())
    with agentreplay.open(written) as cassette:
        for number in (1, 2, 150, 239, 241):
            assert cassette.step(number) == [e for n, e in numbered if n == number]
        assert list(cassette.events()) == events


def test_a_damaged_steps_frame_makes_the_reader_rebuild_the_index(tmp_path: Path) -> None:
    path = tmp_path / "damaged.cassette"
    events = _run(40)
    _write(path, events, background=False, steps_frame=8)
    expected = _infos(path)
    _, steps_frames = _raw_index(path)
    data = bytearray(path.read_bytes())
    data[steps_frames[1] + 20] ^= 0xFF
    path.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CassetteWarning)
        with agentreplay.open(path) as cassette:
            assert not cassette.closed_cleanly  # the index was not believed
            infos = cassette.step_infos()
    assert any("rebuilding the index" in str(w.message) for w in caught)
    # Rebuilt by scanning the events frames: the same steps, up to the damage.
    assert [(i.number, i.name) for i in infos] == [
        (i.number, i.name) for i in expected[: len(infos)]
    ]


def test_the_writers_tracker_hands_over_closed_steps_and_keeps_only_open_ones() -> None:
    tracker = StepTracker(keep=False)
    numbers = [tracker.feed(event) for event in _run(5, calls_per_span=2)]
    assert max(numbers) == 16
    closed = tracker.take_closed()
    assert sorted(i.number for i in closed) == list(range(1, 16))
    assert tracker.steps == [] and tracker.take_closed() == []
    with pytest.raises(KeyError):
        tracker.info(3)
    (still_open,) = tracker.take_all()
    assert still_open.number == 16 and still_open.end_at is None
