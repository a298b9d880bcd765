"""Which step each event belongs to.

Steps are numbered from 1 in the order they start. Three events open a step:
an `HttpRequest`, a `ToolCall` and a `StepStart`. The events that complete
them (response, chunks, end or error; tool result; step end) belong to the
step they complete. Any other event (a clock read, an entropy draw, the run's
outcome) belongs to the innermost step still open in its logical task, or in
the nearest ancestor task, or to no step (0).

The writer runs this to build the cassette's index; the reader runs it to
rebuild a missing index, so both always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from agentreplay.cassette.events import KINDS, Event, StepRole

__all__ = ["StepInfo", "StepTracker"]


@dataclass(slots=True)
class StepInfo:
    """What the index knows of a step without decoding its events."""

    number: int
    kind: str  # "http" | "tool" | "span"
    name: str
    task: str
    parent: int
    start_at: int
    end_at: int | None = None
    first_frame: int = -1
    last_frame: int = -1

    def to_plain(self) -> list[object]:
        return [
            self.number,
            self.kind,
            self.name,
            self.task,
            self.parent,
            self.start_at,
            self.end_at,
            self.first_frame,
            self.last_frame,
        ]

    @classmethod
    def from_plain(cls, data: object) -> StepInfo:
        if not isinstance(data, list) or len(data) != 9:
            raise ValueError("step entry is not an array of nine items")
        number, kind, name, task, parent, start_at, end_at, first, last = data
        ints = (number, parent, start_at, first, last)
        if (
            not all(type(v) is int for v in ints)
            or not all(isinstance(v, str) for v in (kind, name, task))
            or not (end_at is None or type(end_at) is int)
        ):
            raise ValueError("step entry has fields of the wrong type")
        return cls(number, kind, name, task, parent, start_at, end_at, first, last)


# Read once per event by the writer: each kind's role, link and opened kind, in a tuple.
_ROLES: Final = {cls: (kind.step_role, kind.link, kind.opens) for cls, kind in KINDS.items()}
_NONE: Final = StepRole.NONE
_OPENS: Final = StepRole.OPENS
_CONTINUES: Final = StepRole.CONTINUES


def _parent_task(task: str) -> str | None:
    head, dot, _ = task.rpartition(".")
    return head if dot else None


class StepTracker:
    """Feed events in cassette order; learn each one's step number.

    A reader keeps every step in `steps`. A writer (``keep=False``) keeps only the
    steps not yet handed over: `info` finds one of them, and `take_closed` hands over
    (and forgets) the ones closed since it was last called, so that a long recording
    holds nothing per finished step.
    """

    def __init__(self, *, keep: bool = True) -> None:
        self.steps: list[StepInfo] = []
        self._keep = keep
        self.opened = 0
        self._live: dict[int, StepInfo] = {}  # keep=False: steps not handed over yet
        self._closed: list[int] = []
        self._owner: dict[tuple[str, int], int] = {}  # (task, opening seq) -> step
        self._open: dict[str, list[int]] = {}  # task -> stack of open step numbers

    def _innermost(self, task: str | None) -> int:
        while task is not None:
            stack = self._open.get(task)
            if stack:
                return stack[-1]
            task = _parent_task(task)
        return 0

    def info(self, number: int) -> StepInfo:
        """Step ``number``, which must not have been handed over by `take_closed`."""
        return self.steps[number - 1] if self._keep else self._live[number]

    def take_closed(self) -> list[StepInfo]:
        """The steps closed since the last call, forgotten here (``keep=False`` only)."""
        closed, self._closed = self._closed, []
        return [self._live.pop(number) for number in closed]

    def take_all(self) -> list[StepInfo]:
        """Every step not handed over yet, open or closed, in order (``keep=False`` only)."""
        self._closed = []
        live, self._live = self._live, {}
        return sorted(live.values(), key=lambda info: info.number)

    def _open_step(self, event: Event, kind: str, name: str) -> int:
        self.opened = number = self.opened + 1
        parent = self._innermost(event.task)
        info = StepInfo(number, kind, name, event.task, parent, event.at)
        if self._keep:
            self.steps.append(info)
        else:
            self._live[number] = info
        self._owner[(event.task, event.seq)] = number
        self._open.setdefault(event.task, []).append(number)
        return number

    def _close_step(self, task: str, opener: int, at: int) -> int:
        # Nothing belongs to a closed step any more: forget it, so that a long recording
        # does not keep an entry per exchange.
        number = self._owner.pop((task, opener), 0)
        if number:
            self.info(number).end_at = at
            if not self._keep:
                self._closed.append(number)
            stack = self._open.get(task)
            if stack and number in stack:
                stack.remove(number)
        return number

    def chunk_step(self, task: str, request: int) -> int:
        """The step of an `HttpChunk` of ``task`` answering ``request`` (what `feed` returns
        for it), for a writer given the chunk's fields instead of the event."""
        return self._owner.get((task, request), 0)

    def feed(self, event: Event) -> int:
        """Return the step ``event`` belongs to (0 for none)."""
        role, link, opens = _ROLES[type(event)]
        if role is _CONTINUES:  # the most frequent: a streamed body's chunks
            return self._owner.get((event.task, getattr(event, link)), 0)
        if role is _NONE:  # clock reads, entropy draws, the outcome
            return self._innermost(event.task)
        if role is _OPENS:
            return self._open_step(event, opens, event.step_name())
        return self._close_step(event.task, getattr(event, link), event.at)
