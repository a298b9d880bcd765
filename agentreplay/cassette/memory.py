"""Recording into memory: a run's events held until someone decides to keep them.

Production capture records every run, and writes only the few worth keeping.
`MemoryRun` is where such a run's events go meanwhile: `append` puts the
event on a list and adds up roughly how many bytes the run holds. Past
``max_bytes`` the run is *truncated*: it stops holding events, except its
outcome. Nothing here touches a file; `write` turns the events into a
cassette with `CassetteWriter`, later, on a writer's thread, for the runs
that are kept. A dropped run is just forgotten.

`EventSink` is what a recorder writes into: this, or a `CassetteWriter`.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Final, Protocol

from agentreplay.cassette.events import (
    Event,
    HttpChunk,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.writer import CassetteWriter

__all__ = ["EventSink", "MemoryRun", "approx_size"]


class EventSink(Protocol):
    """Takes a run's events as they happen; closed when the run ends, abandoned when it
    never really began."""

    def append(self, event: Event) -> None: ...

    def append_chunk(self, task: str, seq: int, at: int, request: int, data: bytes) -> None:
        """``append(HttpChunk(task, seq, at, request, data))``, which a sink may do without
        making the event: a streamed answer calls this once per chunk."""

    def note_unrecorded(self, address: str) -> None:
        """The run reached ``address`` without it being recorded (the index names it)."""

    def close(self) -> None: ...

    def abandon(self) -> None: ...


_EVENT: Final = 48  # an event's fixed fields, roughly, in memory and on disk


def _plain_size(value: Any, depth: int = 0) -> int:
    """A rough, bounded guess of the bytes a plain value takes."""
    if isinstance(value, (bytes, str)):
        return len(value)
    if depth > 3:
        return 8
    if isinstance(value, dict):
        return sum(
            16 + _plain_size(k, depth + 1) + _plain_size(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return sum(8 + _plain_size(v, depth + 1) for v in value)
    return 8


def _headers(headers: tuple[tuple[str, str], ...]) -> int:
    return sum(len(k) + len(v) for k, v in headers)


_SIZES: Final[dict[type, Any]] = {
    HttpChunk: lambda e: _EVENT + len(e.data),
    HttpRequest: lambda e: _EVENT + len(e.url) + len(e.body) + _headers(e.headers),
    HttpResponse: lambda e: _EVENT + _headers(e.headers),
    ToolCall: lambda e: _EVENT + _plain_size(e.args) + _plain_size(e.kwargs),
    ToolResult: lambda e: _EVENT + _plain_size(e.value),
}


def approx_size(event: Event) -> int:
    """About how many bytes ``event`` holds: its payloads, plus a fixed part."""
    size = _SIZES.get(type(event))
    return _EVENT if size is None else int(size(event))


class MemoryRun:
    """A run's events in memory, up to about ``max_bytes``; then only its outcome."""

    __slots__ = ("closed", "events", "max_bytes", "size", "truncated", "unrecorded")

    def __init__(self, max_bytes: int) -> None:
        self.events: list[Event] = []
        self.size = 0
        self.max_bytes = max_bytes
        self.truncated = False
        self.closed = False
        self.unrecorded: list[str] = []

    def append(self, event: Event) -> None:
        """Hold ``event``; cheap, never raises, safe from any thread (list.append is
        atomic). After `close`, events from code the run left running are ignored."""
        if self.closed:
            return
        if self.truncated:
            if type(event) is RunOutcome:
                self.events.append(event)
            return
        try:
            size = approx_size(event)
        except Exception:  # a value of an odd type: count it as small
            size = _EVENT
        if self.size + size > self.max_bytes and type(event) is not RunOutcome:
            self.truncated = True
            return
        self.size += size
        self.events.append(event)

    def append_chunk(self, task: str, seq: int, at: int, request: int, data: bytes) -> None:
        self.append(HttpChunk(task, seq, at, request, data))

    def note_unrecorded(self, address: str) -> None:
        if not self.closed:
            self.unrecorded.append(address)

    def close(self) -> None:
        self.closed = True

    def abandon(self) -> None:
        self.closed = True
        self.events = []

    def write(self, path: str | os.PathLike[str], header: dict[str, Any]) -> int:
        """Write the held events as a complete, indexed cassette at ``path``; returns
        its size in bytes."""
        writer = CassetteWriter(path, header, background=False)
        try:
            for event in self.events:
                writer.append(event)
            for address in self.unrecorded:
                writer.note_unrecorded(address)
            writer.close()
        except BaseException:
            # A full disk fails the close half-way: the file must still be let go of.
            with contextlib.suppress(Exception):
                writer.abandon()
            raise
        return os.path.getsize(path)
