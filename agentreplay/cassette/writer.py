"""Writing a cassette while the run goes on.

`append` is the only call on the agent's path: it puts the event on a list
(`append_chunk` puts a streamed body's chunk there as its fields, unmade).
A background thread turns pending events into frames: it cuts a frame every
`FLUSH_EVENTS` events and whenever it wakes (every `FLUSH_INTERVAL` seconds),
compresses it and writes it. A process killed at any moment therefore loses
at most the events of the last ~100 ms; the reader recovers everything before
them. The frames a recording cuts go into streams (stream.py): one zstd frame
kept open across flushes, so small frames compress as one batch would, and
every flushed byte can be read back. Frames are not cut at step boundaries;
the index names the frames each step's events are in.

The index of steps is written as the recording goes, so that memory stays flat
however long it runs: once `STEPS_FRAME` steps have closed and their frames are
written, their index entries go into a steps frame, which the index lists;
the index itself holds only the entries of the last steps.

What waits for the writer thread is bounded too: a thread that finds
`MAX_PENDING` events waiting (the writer starved of CPU on a loaded machine)
writes them itself before it goes on, so the recording slows the run down
rather than holding it in memory.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from array import array
from collections import deque
from io import BufferedWriter
from pathlib import Path
from typing import Any, Final

from agentreplay.cassette.blobs import BlobTable
from agentreplay.cassette.codec import (
    ENCODERS,
    ChunkFields,
    encode_chunk_fields,
    to_absolute,
    to_relative,
)
from agentreplay.cassette.events import BY_CODE, Event, RunOutcome
from agentreplay.cassette.frames import (
    FRAME_BLOBS,
    FRAME_EVENTS,
    FRAME_STEPS,
    FrameTooLarge,
    encode_content,
    encode_footer,
    encode_header,
    encode_index,
    pack_data_frame,
)
from agentreplay.cassette.stream import STREAM_EVERY, StreamCompressor
from agentreplay.cassette.tracking import StepTracker
from agentreplay.errors import RecordingError, UsageError

__all__ = ["CassetteWriter", "check_writable", "create_file"]

FLUSH_EVENTS: Final = 256
FLUSH_INTERVAL: Final = 0.1
MAX_BLOB_FRAME: Final = 4 * 1024 * 1024
MAX_PENDING: Final = 4 * FLUSH_EVENTS
"""Events waiting for the writer thread beyond which the appending thread writes them."""
MAX_UNRECORDED: Final = 64
"""Addresses reached without being recorded that the index names (the first ones)."""
STEPS_FRAME: Final = 2048
"""Index entries of closed steps gathered before they are written out in a steps frame."""


def _number(entry: list[object]) -> int:
    return entry[0]  # type: ignore[return-value]


def check_writable(path: Path) -> None:
    """Raise, before anything runs, the `UsageError` a writer at ``path`` would raise
    (the file is made, then removed: only that tells for sure, whoever runs it)."""
    create_file(path).close()
    path.unlink()


def create_file(path: Path) -> BufferedWriter:
    """Open a new cassette file for writing, making its folder; a path that cannot be
    written raises a `UsageError` that says why in one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in path.parents if p.is_file()), path.parent)
        raise UsageError(
            f"cannot write the cassette {path}: {blocking} is a file, not a folder"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"cannot write the cassette {path}: it is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot write the cassette {path}: {exc.strerror or exc}") from None


class CassetteWriter:
    """Appends events to a new cassette file; `close()` writes the index and footer."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: dict[str, Any],
        *,
        flush_events: int = FLUSH_EVENTS,
        flush_interval: float = FLUSH_INTERVAL,
        background: bool = True,
        stream: bool | None = None,
        steps_frame: int = STEPS_FRAME,
    ) -> None:
        self.path = Path(path)
        # Frames cut by the clock are small: write them into streams (see stream.py). A
        # writer flushed by its caller in batches (background=False) writes independent
        # frames, each readable alone.
        self._streaming = background if stream is None else stream
        self._file = create_file(self.path)
        try:
            self._file.write(encode_header(header))
            self._file.flush()
        except BaseException:  # a full disk: no writer to close the file later
            with contextlib.suppress(OSError):
                self._file.close()
            raise
        self._stream = StreamCompressor()
        self._last_at = 0  # the run's time of the last event written
        self._backlog = False  # a whole batch was pending when this flush began
        self._stream_start = -1
        self._streams = array("q")  # start and end offsets of every stream ended
        self._flush_events = flush_events
        self._flush_interval = flush_interval
        self._pending: deque[Event | ChunkFields] = deque()
        self._lock = threading.Lock()  # serialises writing frames
        self._writing = 0  # the thread holding the lock to write, 0 for none
        self._wake = threading.Event()
        self._blobs = BlobTable()
        self._tracker = StepTracker(keep=False)
        self._steps_frame = steps_frame
        self._step_entries: list[list[object]] = []  # closed steps' entries, not yet written
        # Offset, type and event count of every data frame, three ints each; packed,
        # as they are held to the end of the recording.
        self._frame_table = array("q")
        self._blob_frames = array("q")  # blob id -> frame offset
        self._outcome_frame: int | None = None
        self._unrecorded: list[str] = []
        self.events_written = 0
        self.closed = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._run, name="agentreplay-writer", daemon=True
            )
            self._thread.start()

    def append(self, event: Event) -> None:
        """Queue ``event``; cheap and safe to call from any thread."""
        pending = self._pending
        pending.append(event)
        # Wake the writer once per batch: Event.set() takes a lock, and calling it
        # on every append while the writer is busy doubles the cost of appending.
        if len(pending) >= self._flush_events:
            if not self._wake.is_set():
                self._wake.set()
            if len(pending) >= MAX_PENDING:
                self._catch_up()

    def append_chunk(self, task: str, seq: int, at: int, request: int, data: bytes) -> None:
        """Queue ``HttpChunk(task, seq, at, request, data)`` as its fields: the event is
        never made, its fields are encoded as they are."""
        pending = self._pending
        pending.append((task, seq, at, request, data))
        if len(pending) >= self._flush_events:
            if not self._wake.is_set():
                self._wake.set()
            if len(pending) >= MAX_PENDING:
                self._catch_up()

    def note_unrecorded(self, address: str) -> None:
        """The run connected to ``address`` by a way that is not recorded: the index says so."""
        if address not in self._unrecorded and len(self._unrecorded) < MAX_UNRECORDED:
            self._unrecorded.append(address)

    def flush(self) -> None:
        """Write every pending event now, in the calling thread."""
        with self._lock:
            self._writing = threading.get_ident()
            try:
                self._write_pending()
            finally:
                self._writing = 0

    def _catch_up(self) -> None:
        """Write what is pending in the appending thread: the writer thread is behind.
        A failure is kept for `close()`, as the writer thread keeps its own; an append
        made while this thread writes (by code the writing calls), or once the writer is
        closed, only queues."""
        if self.closed or self._error is not None or self._writing == threading.get_ident():
            return
        try:
            self.flush()
        except BaseException as exc:  # surfaced by close()
            self._error = exc

    def _run(self) -> None:
        while not self.closed:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            if self.closed:
                return
            try:
                self.flush()
            except BaseException as exc:  # surfaced by close()
                self._error = exc
                return

    def _write_pending(self) -> None:
        pending = self._pending
        if not pending:
            return
        popleft, size = pending.popleft, self._flush_events
        self._backlog = len(pending) >= size
        feed, chunk_step = self._tracker.feed, self._tracker.chunk_step
        while pending:
            # Appends go on meanwhile, at the other end: take what is there now.
            batch = [popleft() for _ in range(min(len(pending), size))]
            steps = [
                chunk_step(item[0], item[3]) if isinstance(item, tuple) else feed(item)
                for item in batch  # a tuple is a chunk's fields; an event is never one
            ]
            self._write_batch(batch, steps)
        self._write_steps()
        self._file.flush()

    def _write_batch(self, batch: list[Event | ChunkFields], steps: list[int]) -> None:
        intern, encoders, chunk = self._blobs.intern, ENCODERS, encode_chunk_fields
        items = [
            chunk(item, intern) if isinstance(item, tuple) else encoders[type(item)](item, intern)
            for item in batch
        ]
        last = batch[-1]
        self._last_at = last[2] if isinstance(last, tuple) else last.at
        new_blobs = self._blobs.take_pending()
        start = 0
        while start < len(new_blobs):
            end, size = start, 0
            while end < len(new_blobs) and (end == start or size < MAX_BLOB_FRAME):
                size += len(new_blobs[end][1])  # type: ignore[arg-type]
                end += 1
            offset = self._emit(pack_data_frame(FRAME_BLOBS, new_blobs[start:end]))
            self._frame_table.extend((offset, FRAME_BLOBS, 0))
            self._blob_frames.extend(offset for _ in range(start, end))
            start = end
        self._write_events(batch, items, steps)

    def _write_events(
        self, batch: list[Event | ChunkFields], items: list[Any], steps: list[int]
    ) -> None:
        to_relative(items)
        try:
            content = pack_data_frame(FRAME_EVENTS, items, steps)
        except FrameTooLarge as exc:
            to_absolute(items)  # each half is made relative on its own
            if len(items) == 1:
                kind, task, seq = BY_CODE[items[0][0]].cls.__name__, items[0][1], items[0][2]
                raise RecordingError(
                    f"{kind} {seq} of task {task} does not fit in a cassette frame: {exc}"
                ) from exc
            half = len(items) // 2
            self._write_events(batch[:half], items[:half], steps[:half])
            self._write_events(batch[half:], items[half:], steps[half:])
            return
        offset = self._emit(content)
        self._frame_table.extend((offset, FRAME_EVENTS, len(items)))
        self.events_written += len(items)
        info_of = self._tracker.info
        for number in set(steps):
            if number:
                info = info_of(number)
                if info.first_frame < 0:
                    info.first_frame = offset
                info.last_frame = offset
        if RunOutcome in map(type, batch):
            self._outcome_frame = offset

    def _write_steps(self) -> None:
        """Gather the entries of the steps closed in the frames written so far; write them
        out in a steps frame once there are `STEPS_FRAME` of them."""
        entries = self._step_entries
        entries.extend(info.to_plain() for info in self._tracker.take_closed())
        if len(entries) >= self._steps_frame:
            # A keyframe: reading the index then decompresses this frame alone.
            entries.sort(key=_number)
            offset = self._emit(pack_data_frame(FRAME_STEPS, entries), key=True)
            self._frame_table.extend((offset, FRAME_STEPS, 0))
            self._step_entries = []

    def _emit(self, content: bytes, *, key: bool = False) -> int:
        """Write a data frame of ``content``: a piece of the open stream, or a zstd frame of
        its own (with ``key``, when not streaming, or when it would fill a stream alone);
        return its offset."""
        stream = self._stream
        if not self._streaming or key or len(content) > STREAM_EVERY:
            self._end_stream()
            offset = self._file.tell()
            self._file.write(encode_content(content))
            return offset
        if stream.is_open and stream.content + len(content) > STREAM_EVERY:
            self._end_stream()  # random access decompresses a stream from its start
        offset = self._file.tell()
        if not stream.is_open:
            self._file.write(stream.open(self._last_at, backlog=self._backlog))
            self._stream_start = offset
        self._file.write(stream.piece(content))
        return offset

    def _end_stream(self) -> None:
        if self._stream.is_open:
            self._file.write(self._stream.end(self._last_at))
            self._streams.extend((self._stream_start, self._file.tell()))

    @property
    def _frames(self) -> list[list[int]]:
        """``[offset, type, events]`` of every data frame written, in file order."""
        table = self._frame_table
        return [table[i : i + 3].tolist() for i in range(0, len(table), 3)]

    def close(self) -> None:
        """Write what is pending, then the index and footer; idempotent."""
        if self.closed:
            return
        self.closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            self._writing = threading.get_ident()
            try:
                self._write_pending()
            finally:  # index what was written, even if an event could not be
                self._end_stream()
                index_offset = self._file.tell()
                self._file.write(encode_index(self._index()))
                self._file.write(encode_footer(index_offset))
                self._file.close()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Stop writing without an index, as a crash would (used in tests and on fatal errors)."""
        self.closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            self._file.close()

    def _index(self) -> dict[str, Any]:
        index = {
            "events": self.events_written,
            "frames": self._frames,
            "steps": sorted(
                self._step_entries + [info.to_plain() for info in self._tracker.take_all()],
                key=_number,
            ),
            "blobs": self._blob_frames.tolist(),
            "streams": [self._streams[i : i + 2].tolist() for i in range(0, len(self._streams), 2)],
            "outcome": self._outcome_frame,
            "closed_at": time.time_ns(),
        }
        if self._unrecorded:
            index["unrecorded"] = self._unrecorded
        return index
