"""The one background writer: kept runs, from memory to the sink.

The application's threads only ever call `submit`, which puts a finished run
on a queue bounded in bytes and returns at once; when the queue is full the
run is dropped and counted (``queue_full``), never waited for. The writer's
thread turns each run into a complete, indexed cassette in the sink's spool
folder, reads its steps for the manifest, stores it under its key, and adds
its manifest line.

Failure policy (each one counted and logged at most once a minute):

- a run whose cassette cannot be written or stored (a read-only or full
  disk, a store that refuses it) is dropped (``write_error``); the writer
  goes on with the next. Object-store calls are first retried by the client
  (`sinks.ATTEMPTS` attempts, with connect and read timeouts), so a store
  that is down or slow makes the writer slow, the queue fills, and runs are
  dropped as ``queue_full`` while the application goes on;
- a half-written cassette never reaches the sink: it is written in the
  spool and moved (or uploaded) only once complete.

`flush(timeout)` waits for the queue to empty, up to ``timeout``; at exit,
runs still queued after ``flush_timeout`` are counted as ``shutdown``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from agentreplay.runtime import escape
from agentreplay.runtime.tasks import set_current_task

if TYPE_CHECKING:
    from agentreplay.capture.sinks import FolderSink, S3Sink
    from agentreplay.capture.stats import Counters
    from agentreplay.cassette.memory import MemoryRun

__all__ = ["Job", "Writer"]

MANIFEST_BATCH: Final = 64


@dataclass
class Job:
    """A kept run waiting to be written."""

    memory: MemoryRun
    header: dict[str, Any]
    entry: dict[str, Any]  # its manifest line, completed once written
    key: str
    day: str
    size: int


def summarize(path: Path) -> dict[str, Any]:
    """Steps, tokens and cost of the cassette at ``path``, for the manifest."""
    from agentreplay.steps import Summary, open_cassette

    summary = Summary()
    with open_cassette(path) as cassette:
        for step in cassette.steps():
            summary.add(step)
    return {
        "steps": summary.steps,
        "llm_calls": summary.llm_calls,
        "tokens": summary.input_tokens + summary.output_tokens,
        "cost": summary.cost,
    }


class Writer:
    """Writes kept runs to a sink on one daemon thread."""

    def __init__(
        self,
        sink: FolderSink | S3Sink,
        counters: Counters,
        max_bytes: int,
        after_write: Any = None,
    ) -> None:
        self.sink = sink
        self.counters = counters
        self.max_bytes = max_bytes
        self.after_write = after_write  # retention, for folder sinks
        self._queue: deque[Job] = deque()
        self._bytes = 0
        self._busy = False
        self._closed = False
        self._manifest: dict[str, list[str]] = {}
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="agentreplay-capture", daemon=True)
        # Started from an empty context: the writer belongs to no run, whoever enabled capture.
        contextvars.Context().run(self._thread.start)

    @property
    def queued(self) -> tuple[int, int]:
        with self._cond:
            return len(self._queue) + self._busy, self._bytes

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (and counted) if the queue is full or closed. Never blocks
        for longer than taking a lock."""
        with self._cond:
            if self._closed:
                reason = "shutdown"
            elif self._bytes + job.size > self.max_bytes and (self._queue or self._busy):
                reason = "queue_full"
            else:
                self._queue.append(job)
                self._bytes += job.size
                self._cond.notify()
                return True
        self.counters.count("dropped", reason)
        why = "the writer is behind (queue full)" if reason == "queue_full" else "shutting down"
        self.counters.warn(reason, f"a kept run was dropped: {why}")
        return False

    def _run(self) -> None:
        set_current_task(None)
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    if self._manifest:
                        break
                    self._cond.wait()
                if not self._queue and self._closed and not self._manifest:
                    return
                job = self._queue.popleft() if self._queue else None
                self._busy = job is not None
            try:
                if job is not None:
                    self._write(job)
                with self._cond:
                    idle = not self._queue
                if idle or sum(map(len, self._manifest.values())) >= MANIFEST_BATCH:
                    self._write_manifests()
            except BaseException as exc:  # never let the thread die silently
                self.counters.warn("writer", f"the capture writer failed: {exc!r}")
            finally:
                with self._cond:
                    if job is not None:
                        self._bytes -= job.size
                    self._busy = False
                    self._cond.notify_all()

    def _write(self, job: Job) -> None:
        try:
            spool = self.sink.spool()
            partial = spool / f"{job.entry['run_id']}.partial"
        except Exception as exc:
            self._failed(f"no place to write in {self.sink.url}: {exc!r}")
            return
        try:
            size = job.memory.write(partial, job.header)
            with contextlib.suppress(Exception):  # unreadable steps: still worth keeping
                job.entry.update(summarize(partial))
            job.entry["bytes"] = size
            self.sink.store(job.key, partial)
        except Exception as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            self._failed(f"a kept run could not be written to {self.sink.url}: {exc!r}")
            return
        finally:
            job.memory.abandon()  # its events are on disk, or lost: free them
        self.counters.add("written")
        self.counters.add("bytes_written", size)
        self._manifest.setdefault(job.day, []).append(json.dumps(job.entry, default=str))
        if self.after_write is not None:
            try:
                self.after_write()
            except Exception as exc:
                self.counters.warn("retention", f"applying retention failed: {exc!r}")

    def _write_manifests(self) -> None:
        batches, self._manifest = self._manifest, {}
        for day, lines in batches.items():
            try:
                self.sink.add_manifest(day, lines)
            except Exception as exc:
                self.counters.add("write_errors")
                self.counters.warn(
                    "manifest",
                    f"{len(lines)} manifest lines for {day} could not be written to "
                    f"{self.sink.url} (the cassettes are there): {exc!r}",
                )

    def _failed(self, message: str) -> None:
        self.counters.add("write_errors")
        self.counters.count("dropped", "write_error")
        self.counters.warn("write_error", message)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued run is written, up to ``timeout`` seconds."""
        deadline = escape.monotonic() + timeout
        with self._cond:
            self._cond.notify()
            while self._queue or self._busy or self._manifest:
                left = deadline - escape.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self, timeout: float) -> bool:
        """Flush for up to ``timeout`` seconds, then stop; what is still queued is dropped
        and counted as ``shutdown``."""
        flushed = self.flush(timeout)
        with self._cond:
            self._closed = True
            left = len(self._queue)
            self._queue.clear()
            self._bytes = 0 if not self._busy else self._bytes
            self._cond.notify_all()
        for _ in range(left):
            self.counters.count("dropped", "shutdown")
        if left:
            self.counters.warn("shutdown", f"{left} kept runs were not written before exit")
        return flushed
