"""The trailing index of a cassette, checked against the file before it is believed.

The writer knows where every frame and step is and writes it down at close;
a reader takes that map only if it could be true of this file: frame offsets
inside the data, in order, of known types; event counts that add up; steps
numbered 1, 2, 3... whose frames are listed events frames; blob and outcome
offsets that name listed frames of the right type. Anything else raises
ValueError, and the reader rebuilds the index by scanning the frames.

From format 4 the entries of most steps are not in the index itself but in the
steps frames it lists, written while the recording went on; the reader hands
in a function that reads one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from agentreplay.cassette.frames import FRAME_BLOBS, FRAME_EVENTS, FRAME_STEPS
from agentreplay.cassette.tracking import StepInfo

__all__ = ["MAX_FRAME_EVENTS", "parse_index", "parse_unrecorded"]

MAX_FRAME_EVENTS: Final = 1 << 20
"""No events frame holds more (the writer cuts one every few hundred)."""


_MAX_UNRECORDED: Final = 256
"""More addresses than a writer ever names (it stops at 64)."""
_TYPES: Final = {FRAME_EVENTS: "events", FRAME_BLOBS: "blobs", FRAME_STEPS: "steps"}


def _frames(raw: Any, data_start: int, end: int) -> list[list[int]]:
    if not isinstance(raw, list):
        raise ValueError("frames is not an array")
    previous = data_start - 1
    for frame in raw:
        if not (isinstance(frame, list) and len(frame) == 3 and all(type(v) is int for v in frame)):
            raise ValueError("frame entry is malformed")
        offset, kind, count = frame
        if not previous < offset < end:
            raise ValueError(f"frame offset {offset} is out of order or outside the data")
        if kind not in _TYPES or not 0 <= count <= MAX_FRAME_EVENTS:
            raise ValueError(f"frame at {offset} has type {kind} and {count} events")
        if kind != FRAME_EVENTS and count:
            raise ValueError(f"{_TYPES[kind]} frame at {offset} claims {count} events")
        previous = offset
    return raw


def _streams(raw: Any, data_start: int, end: int) -> list[list[int]]:
    """The [start, end] of every stream (format 5): in order, apart, inside the data."""
    if not isinstance(raw, list):
        raise ValueError("streams is not an array")
    previous = data_start
    for stream in raw:
        if not (
            isinstance(stream, list) and len(stream) == 2 and all(type(v) is int for v in stream)
        ):
            raise ValueError("stream entry is malformed")
        if not previous <= stream[0] < stream[1] <= end:
            raise ValueError(f"stream {stream} is out of order or outside the data")
        previous = stream[1]
    return raw


def _steps(raw: Any, written: list[Any], events_frames: set[int], events: int) -> list[StepInfo]:
    if not isinstance(raw, list) or len(raw) + len(written) > events:
        raise ValueError("steps is not an array of at most one step per event")
    steps = [StepInfo.from_plain(item) for item in raw]
    if written:  # entries of steps frames, in the order steps closed
        steps += (StepInfo.from_plain(item) for item in written)
        steps.sort(key=lambda info: info.number)
    for number, info in enumerate(steps, 1):
        if info.number != number or not 0 <= info.parent < number:
            raise ValueError(f"step {number} is numbered {info.number}, parent {info.parent}")
        first, last = info.first_frame, info.last_frame
        if (first, last) != (-1, -1) and not (
            first in events_frames and last in events_frames and first <= last
        ):
            raise ValueError(f"step {number} names frames {first}..{last}, not events frames")
    return steps


def parse_index(
    raw: dict[str, Any], data_start: int, end: int, read_steps: Callable[[int], list[Any]]
) -> tuple[int, list[list[int]], list[StepInfo], list[int], int | None, list[list[int]]]:
    """(events, frames, steps, blobs, outcome, streams) of an index read from a file whose
    data frames lie in ``data_start..end``; ValueError, KeyError or TypeError if it lies.
    ``read_steps(offset)`` returns the entries of the steps frame at ``offset``."""
    frames = _frames(raw["frames"], data_start, end)
    streams = _streams(raw.get("streams", []), data_start, end)
    events = raw["events"]
    if type(events) is not int or events != sum(count for _, _, count in frames):
        raise ValueError("the event count is not the sum of the frames' counts")
    events_frames = {offset for offset, kind, _ in frames if kind == FRAME_EVENTS}
    blob_frames = {offset for offset, kind, _ in frames if kind == FRAME_BLOBS}
    written: list[Any] = []
    for offset, kind, _ in frames:
        if kind == FRAME_STEPS:
            if any(start <= offset < stop for start, stop in streams):
                raise ValueError("a steps frame lies inside a stream (one is always alone)")
            written += read_steps(offset)
            if len(written) > events:
                raise ValueError("steps is not an array of at most one step per event")
    steps = _steps(raw["steps"], written, events_frames, events)
    blobs = raw["blobs"]
    if not isinstance(blobs, list) or not all(
        type(b) is int and (b == -1 or b in blob_frames) for b in blobs
    ):
        raise ValueError("a blob names no blobs frame")
    outcome = raw["outcome"]
    if outcome is not None and outcome not in events_frames:
        raise ValueError("the outcome names no events frame")
    return events, frames, steps, blobs, outcome, streams


def parse_unrecorded(raw: Any) -> list[str]:
    """The addresses reached without being recorded (an optional key): a short array of
    ``host:port`` strings."""
    if not isinstance(raw, list) or len(raw) > _MAX_UNRECORDED:
        raise ValueError("unrecorded is not a short array")
    if not all(isinstance(address, str) and 0 < len(address) <= 300 for address in raw):
        raise ValueError("an unrecorded address is not a short string")
    return raw
