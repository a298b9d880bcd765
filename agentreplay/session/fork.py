"""A fork: the cassette a replay writes once it goes live (``live_after=N``).

It holds the whole run: the replayed steps, echoed into it as the fork's own
events, then everything the live part did. Its header names its parent and N,
and keeps everything that says how to run the program again, so a fork can
be replayed like the run it came from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Final

from agentreplay.cassette.events import KINDS, Event
from agentreplay.cassette.writer import CassetteWriter
from agentreplay.runtime import escape
from agentreplay.runtime.tasks import TaskState
from agentreplay.session.provenance import ORIGIN, made_here
from agentreplay.session.recorder import Recorder
from agentreplay.session.recording import base_header
from agentreplay.session.redaction import Redactor

__all__ = ["ForkClocks", "echo", "open_fork"]

_PER_RUN_HEADER: Final = frozenset(
    {
        "agentreplay",
        "mode",
        "run_id",
        "created",
        "created_ns",
        "python",
        "platform",
        "redaction",
        "metadata",
        "parent",
        ORIGIN,
    }
)


def open_fork(
    target: Path,
    parent: Path,
    parent_header: dict[str, Any],
    step: int | None,
    redactor: Redactor,
    what_if: str = "",
) -> Recorder:
    """Start writing the fork of ``parent`` that goes live after ``step`` into ``target``;
    with ``step`` None, a what-if run that replays (``what_if`` says what it changed)."""
    extra = {key: value for key, value in parent_header.items() if key not in _PER_RUN_HEADER}
    extra["parent"] = {"path": str(parent), "run_id": parent_header.get("run_id"), "step": step}
    if what_if:
        extra["parent"]["what_if"] = what_if
    mode = "fork" if step is not None else "what-if"
    header = base_header(mode, redactor.rules, parent_header.get("metadata"), extra)
    if not made_here(parent_header):
        # It runs what the parent runs: a run made here from a cassette made elsewhere
        # is from elsewhere too.
        parent_origin = parent_header.get(ORIGIN)
        header[ORIGIN] = (
            {k: v for k, v in (parent_origin or {}).items() if k != "mark"}
            if isinstance(parent_origin, dict)
            else None
        )
    return Recorder(CassetteWriter(target, redactor.header(header)), redactor)


def echo(recorder: Recorder, task: TaskState, events: list[Event]) -> None:
    """Write replayed events into the fork, renumbered as the fork's own."""
    seqs: dict[int, int] = {}
    now = recorder.now()
    for event in events:
        seq = task.next_seq()
        seqs[event.seq] = seq
        # Keep the recorded spacing (a stream's chunk gaps) from this moment on.
        fields: dict[str, Any] = {"task": task.id, "seq": seq}
        fields["at"] = now + event.at - events[0].at
        link = KINDS[type(event)].link  # the event it belongs to, renumbered too
        if link:
            fields[link] = seqs.get(getattr(event, link), 0)
        recorder.emit(dataclasses.replace(event, **fields))


class ForkClocks:
    """The clocks of a fork once it goes live: each goes on from its last replayed read
    (plus the real time since the fork went live), so that the run's clocks neither jump
    nor run backwards at the fork."""

    def __init__(self) -> None:
        self._last: dict[str, Any] = {}
        self._offsets: dict[str, Any] = {}
        self._live_since = 0.0

    def reset(self) -> None:
        self._last.clear()
        self._offsets.clear()

    def replayed(self, kind: str, value: Any) -> None:
        self._last[kind] = value

    def went_live(self) -> None:
        self._live_since = escape.monotonic()

    def live(self, kind: str, value: Any) -> Any:
        """``value``, a live read of clock ``kind``, on the replayed timeline."""
        last = self._last.get(kind)
        if last is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        offset = self._offsets.get(kind)
        if offset is None:
            scale = 1e9 if kind == "wall" or kind.endswith("_ns") else 1.0
            offset = last + (escape.monotonic() - self._live_since) * scale - value
            offset = self._offsets[kind] = int(offset) if isinstance(value, int) else offset
        return value + offset
