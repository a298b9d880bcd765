"""Reading a cassette: header, a stream of events, random access to a step.

Events are decoded frame by frame and never all held at once. A frame's
events are handed out only after the whole frame decoded soundly, so a
damaged or truncated file yields everything before the damage and then
raises `CassetteError` (or warns, with ``errors="warn"``, or stops quietly,
with ``errors="ignore"``; `Cassette.damage` then says where).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Self

from agentreplay.cassette.blobs import blob_record
from agentreplay.cassette.codec import decode_events, to_absolute
from agentreplay.cassette.events import KINDS, Event, RunOutcome, StepRole
from agentreplay.cassette.frames import FRAME_BLOBS, FRAME_EVENTS, FRAME_STEPS, FrameReader
from agentreplay.cassette.header import check_header
from agentreplay.cassette.index import parse_index, parse_unrecorded
from agentreplay.cassette.limits import Budget, blob_limit
from agentreplay.cassette.tracking import StepInfo, StepTracker
from agentreplay.errors import CassetteError, CassetteWarning

__all__ = ["NO_EVENTS", "CassetteReader", "open_reader"]

NO_EVENTS: Final = (
    "the cassette holds no events: the recording stopped before it wrote any (the "
    "process was probably killed in its first moments), so there is nothing to show "
    "or replay"
)

Errors = Literal["raise", "warn", "ignore"]


def _before(count: int, verb: str) -> str:
    """The events read before damage, with ``verb`` ("were" or "are") agreeing: "the 3
    events before it were", "the event before it was", "no event before it is"."""
    if count == 1:
        return f"the event before it {'was' if verb == 'were' else 'is'}"
    if count == 0:
        return f"no event before it {'was' if verb == 'were' else 'is'}"
    return f"the {count:,} events before it {verb}"


@dataclass(slots=True)
class _Index:
    events: int
    frames: list[list[int]]  # [offset, type, event count]
    steps: list[StepInfo]
    blobs: list[int]  # blob id -> offset of the frame holding it
    outcome: int | None
    rebuilt: bool
    unrecorded: list[str] = field(default_factory=list)


class _Blobs:
    """Blob pieces read so far, by id, within a limit on the bytes held."""

    __slots__ = ("data", "held", "limit", "path")

    def __init__(self, limit: int, path: str) -> None:
        self.data: dict[int, bytes] = {}
        self.held = 0
        self.limit = limit
        self.path = path

    def add(self, blob_id: int, data: bytes, offset: int) -> None:
        old = self.data.get(blob_id)
        self.held += len(data) - (len(old) if old is not None else 0)
        if self.held > self.limit:
            raise CassetteError(
                f"the blob pieces read so far hold {self.held:,} bytes, more than "
                f"{self.limit:,} (64 times the file's size, or 64 MiB)",
                offset=offset,
                path=self.path,
            )
        self.data[blob_id] = data

    def resolver(self, budget: Budget) -> Callable[[list[int]], bytes]:
        data = self.data

        def resolve(ids: list[int]) -> bytes:
            try:
                pieces = [data[i] for i in ids]
            except KeyError as exc:
                raise CassetteError(f"event refers to unknown blob {exc.args[0]}") from None
            budget.take(sum(map(len, pieces)))
            return b"".join(pieces)

        return resolve


class CassetteReader:
    """An open cassette file, read at the level of events: header, events, the index of
    steps, one step's events, the outcome. `agentreplay.open(path)` returns a
    `agentreplay.Cassette`, which adds the decoded steps."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise CassetteError(
                f"cannot open cassette: {exc.strerror}", path=str(self.path)
            ) from exc
        self._frames = FrameReader(self._file, str(self.path))
        try:
            self.format_version, header, self._data_start = self._frames.read_header()
            self.header = check_header(header)
        except CassetteError as exc:
            self._file.close()
            raise CassetteError(exc.detail, offset=exc.offset, path=str(self.path)) from None
        except BaseException:
            self._file.close()
            raise
        self._index: _Index | None = None
        self._blobs = _Blobs(blob_limit(self._frames.size), str(self.path))
        self.damage: CassetteError | None = None
        """Where reading found the file damaged or cut, once a read got there; the
        events before ``damage.offset`` are sound (``damage.events_read`` of them)."""

    # -- context manager -------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def __repr__(self) -> str:
        major, minor = self.format_version
        return f"<{type(self).__name__} {str(self.path)!r} format {major}.{minor}>"

    @property
    def frames_decompressed(self) -> int:
        """How many data frames this object has decompressed so far."""
        return self._frames.frames_decompressed

    # -- streaming -------------------------------------------------------
    def _decode_frame(
        self, offset: int, value: Any, blobs: _Blobs, budget: Budget
    ) -> tuple[list[int], list[Event]]:
        """The step numbers and events of a frame (none for a blobs or steps frame)."""
        frame_type, items = value[0], value[1]
        if frame_type == FRAME_STEPS:  # index entries: the index reads them
            return [], []
        if frame_type == FRAME_BLOBS:
            digested = self.format_version[0] < 6
            for item in items:
                record = blob_record(item, digested=digested)
                if record is None:
                    raise CassetteError(
                        "blob record is malformed" + (" or fails its digest" if digested else ""),
                        offset=offset,
                        path=str(self.path),
                    )
                blobs.add(*record, offset)
            return [], []
        try:
            if self.format_version[0] >= 6:  # times and sequence numbers as differences
                to_absolute(items)
            events = decode_events(items, blobs.resolver(budget))
        except CassetteError as exc:
            raise CassetteError(exc.detail, offset=offset, path=str(self.path)) from exc
        except (TypeError, ValueError) as exc:  # a field the dataclass itself refused
            raise CassetteError(
                f"malformed event: {exc}", offset=offset, path=str(self.path)
            ) from exc
        return value[2], events  # the frame's check made them the same length

    def _scan(
        self, errors: Errors, blob_frames: dict[int, int] | None = None
    ) -> Iterator[tuple[int, int, Event]]:
        """Yield (frame offset, step, event) for every event, in order."""
        for offset, steps, events in self._scan_frames(errors, blob_frames):
            for step, event in zip(steps, events, strict=True):
                yield offset, step, event

    def _scan_frames(
        self, errors: Errors, blob_frames: dict[int, int] | None = None, *, steps: bool = False
    ) -> Iterator[tuple[int, list[int], list[Event]]]:
        """Yield (frame offset, step numbers, events) for every events frame, in order.

        If ``blob_frames`` is given, it learns the frame offset of every blob. With
        ``steps``, the frames' step numbers are checked against their events.
        """
        opened = 0  # steps opened so far
        offset = self._data_start
        blobs = _Blobs(blob_limit(self._frames.size), str(self.path))
        budget = Budget(self._frames.size)
        count = 0
        closed = False
        while True:
            try:
                kind, next_offset, value = self._frames.next_frame(offset)
                if kind in ("index", "footer"):
                    closed = True
                    if errors != "ignore" and self._frames.read_footer() is None:
                        warnings.warn(
                            f"cassette {self.path} is cut short in its footer, after its "
                            f"index: the last bytes of the file are missing; read {count} "
                            f"events",
                            CassetteWarning,
                            stacklevel=3,
                        )
                    break
                if kind == "end":
                    break
                numbers, events = self._decode_frame(offset, value, blobs, budget)
                if steps and events:
                    opened = _check_steps(numbers, events, opened, offset, str(self.path))
            except CassetteError as exc:
                self.damage = CassetteError(
                    exc.detail, offset=exc.offset, path=str(self.path), events_read=count
                )
                if errors == "ignore":
                    return
                if errors == "warn":
                    warnings.warn(
                        f"cassette {self.path} is damaged or truncated at byte {exc.offset}: "
                        f"{exc.detail}; {_before(count, 'were')} read",
                        CassetteWarning,
                        stacklevel=3,
                    )
                    return
                raise CassetteError(
                    f"{exc.detail} ({_before(count, 'are')} sound)",
                    offset=exc.offset,
                    path=str(self.path),
                    events_read=count,
                ) from exc
            if blob_frames is not None and value[0] == FRAME_BLOBS:
                blob_frames.update((item[0], offset) for item in value[1])
            if events:
                count += len(events)
                yield offset, numbers, events
            offset = next_offset
        if not closed and errors != "ignore":
            warnings.warn(
                f"cassette {self.path} was not closed (the recording process probably "
                f"stopped abruptly); read {count} events",
                CassetteWarning,
                stacklevel=3,
            )

    def events(self, *, errors: Errors = "raise") -> Iterator[Event]:
        """Every event in recording order, read frame by frame."""
        for _, _, events in self._scan_frames(errors):
            yield from events

    def events_with_steps(self, *, errors: Errors = "raise") -> Iterator[tuple[int, Event]]:
        """Every event with the number of the step it belongs to (0 for none)."""
        for _, steps, events in self._scan_frames(errors, steps=True):
            yield from zip(steps, events, strict=True)

    # -- index and random access ------------------------------------------
    def _load_index(self) -> _Index:
        if self._index is not None:
            return self._index
        offset = self._frames.read_footer()
        if offset is not None:
            try:
                self._index = self._parse_index(self._frames.read_index(offset), offset)
                return self._index
            except CassetteError as exc:
                warnings.warn(
                    f"{exc}; rebuilding the index by scanning", CassetteWarning, stacklevel=3
                )
        self._index = self._rebuild_index()
        return self._index

    def _parse_index(self, raw: dict[str, Any], index_offset: int) -> _Index:
        try:
            parsed = parse_index(raw, self._data_start, index_offset, self._steps_frame)
        except (KeyError, TypeError, ValueError) as exc:
            raise CassetteError(f"index is malformed: {exc}", path=str(self.path)) from exc
        events, frames, steps, blobs, outcome, streams = parsed
        self._frames.add_streams(streams)
        try:
            unrecorded = parse_unrecorded(raw.get("unrecorded", []))
        except ValueError as exc:
            raise CassetteError(f"index is malformed: {exc}", path=str(self.path)) from exc
        return _Index(events, frames, steps, blobs, outcome, rebuilt=False, unrecorded=unrecorded)

    def _steps_frame(self, offset: int) -> list[Any]:
        """The step entries of the steps frame at ``offset``, read alone (as the writer
        writes it), whatever streams this reader has met."""
        value = self._frames.frame_alone(offset)
        if value[0] != FRAME_STEPS:
            raise CassetteError(
                "index points at something other than a steps frame",
                offset=offset,
                path=str(self.path),
            )
        entries: list[Any] = value[1]
        return entries

    def _rebuild_index(self) -> _Index:
        tracker = StepTracker()
        frames: list[list[int]] = []
        outcome: int | None = None
        count = 0
        last_offset = -1
        blob_frames: dict[int, int] = {}
        for offset, _, event in self._scan("ignore", blob_frames):
            step = tracker.feed(event)  # the frame's own step numbers may lie
            if offset != last_offset:
                frames.append([offset, FRAME_EVENTS, 0])
                last_offset = offset
            frames[-1][2] += 1
            count += 1
            if step:
                info = tracker.steps[step - 1]
                if info.first_frame < 0:
                    info.first_frame = offset
                info.last_frame = offset
            if isinstance(event, RunOutcome):
                outcome = offset
        blobs = [blob_frames.get(i, -1) for i in range(len(blob_frames))]
        return _Index(count, frames, tracker.steps, blobs, outcome, rebuilt=True)

    def check_has_events(self) -> None:
        """CassetteError if a cassette that did not close holds no event it can read:
        `NO_EVENTS` when the recording stopped before it wrote any, or where the first
        frame is damaged or cut off."""
        if self.event_count or self.closed_cleanly:
            return
        if self.damage is not None and self.damage.offset is not None:
            raise CassetteError(
                f"{self.damage.detail}: the cassette is damaged or truncated there, and no "
                "event before it could be read, so there is nothing to show or replay",
                offset=self.damage.offset,
                path=str(self.path),
                events_read=0,
            )
        raise CassetteError(NO_EVENTS, path=str(self.path))

    @property
    def closed_cleanly(self) -> bool:
        """False if the cassette has no (sound) index: the recorder did not finish."""
        return not self._load_index().rebuilt

    def step_infos(self) -> list[StepInfo]:
        """What the index says of every step: number, kind, name, task, parent, times."""
        return list(self._load_index().steps)

    @property
    def unrecorded(self) -> list[str]:
        """The addresses the run connected to by a way that is not recorded (``http.client``,
        ``urllib.request``): a replay refuses those connections. Empty if none, or if the
        cassette has no (sound) index to say."""
        return list(self._load_index().unrecorded)

    @property
    def event_count(self) -> int:
        return self._load_index().events

    def _frame_events(self, offset: int, budget: Budget) -> list[tuple[int, Event]]:
        kind, _, value = self._frames.next_frame(offset)
        if kind != "data" or value[0] != FRAME_EVENTS:
            raise CassetteError(
                "index points at something other than an events frame",
                offset=offset,
                path=str(self.path),
            )
        index = self._load_index()
        # Fetch only the blob frames this frame's events refer to.
        for blob_id in _blob_ids(value[1]):
            if blob_id not in self._blobs.data and 0 <= blob_id < len(index.blobs):
                blob_offset = index.blobs[blob_id]
                if blob_offset >= 0:
                    kind, _, blob_value = self._frames.next_frame(blob_offset)
                    if kind != "data" or blob_value[0] != FRAME_BLOBS:
                        raise CassetteError(
                            "index points at something other than a blobs frame",
                            offset=blob_offset,
                            path=str(self.path),
                        )
                    self._decode_frame(blob_offset, blob_value, self._blobs, budget)
        steps, events = self._decode_frame(offset, value, self._blobs, budget)
        return list(zip(steps, events, strict=True))

    def step(self, number: int) -> list[Event]:
        """The events of step ``number``, decompressing only the frames that hold them."""
        index = self._load_index()
        if not 1 <= number <= len(index.steps):
            raise IndexError(
                f"step {number} is not in this cassette (it has {len(index.steps)} steps)"
            )
        info = index.steps[number - 1]
        events: list[Event] = []
        budget = Budget(self._frames.size)
        for offset, frame_type, _ in index.frames:
            if frame_type != FRAME_EVENTS or not info.first_frame <= offset <= info.last_frame:
                continue
            frame = self._frame_events(offset, budget)
            events.extend(event for step, event in frame if step == number)
        openers = [i for i, event in enumerate(events) if type(event) in _OPENERS]
        if events and openers != [0]:
            raise CassetteError(
                f"the events numbered step {number} do not start with one step",
                path=str(self.path),
            )
        return events

    @property
    def outcome(self) -> RunOutcome | None:
        """How the recorded run ended, or None if the recording stopped before it ended."""
        index = self._load_index()
        if index.outcome is None:
            return None
        for _, event in self._frame_events(index.outcome, Budget(self._frames.size)):
            if isinstance(event, RunOutcome):
                return event
        return None


_OPENERS: Final = frozenset(cls for cls, kind in KINDS.items() if kind.step_role is StepRole.OPENS)


def _check_steps(
    numbers: list[int], events: list[Event], opened: int, offset: int, path: str
) -> int:
    """The steps opened after this frame; CassetteError unless its events open steps
    1, 2, 3... in order and every other event belongs to one already open (or to none)."""
    openers = _OPENERS
    for number, event in zip(numbers, events, strict=True):
        if type(event) in openers:
            opened += 1
            if number != opened:
                break
        elif not 0 <= number <= opened:
            break
    else:
        return opened
    raise CassetteError(
        f"step number {number} of a {type(event).__name__} does not follow from the events "
        f"before it (step {opened} is the last one opened)",
        offset=offset,
        path=path,
    )


def _blob_ids(items: list[Any]) -> set[int]:
    ids: set[int] = set()
    for item in items:
        if isinstance(item, list):
            for field in item[4:]:
                if isinstance(field, list) and field and all(type(v) is int for v in field):
                    ids.update(field)
    return ids


def open_reader(path: str | os.PathLike[str]) -> CassetteReader:
    """Open a cassette for reading: header now, events and the index on demand."""
    return CassetteReader(path)
