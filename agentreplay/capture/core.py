"""Capture switched on: its settings, its writer, its counters, and the keep decision.

There is at most one `Capture` from code (`enable`) and one from the
environment (``AGENTREPLAY_CAPTURE``). Precedence: ``AGENTREPLAY_CAPTURE=off``
(or empty) turns capture off whatever the code says; otherwise what the code
enabled wins; otherwise ``AGENTREPLAY_CAPTURE=SINK`` turns it on with the
defaults. Capture only ever applies where no other session runs: with
``AGENTREPLAY_MODE=record`` or ``replay`` an ``@entrypoint`` call is recorded
or replayed whole, and a run started inside a recording or a replay belongs
to that one.

While enabled, a `Capture` keeps agentreplay's hooks installed, so each run
starting and ending costs no patching. At the end of each run it decides
(`keep_reason`): the run is kept when it raised or answered 5xx, was flagged,
ran longer than ``slow_after``, falls in the sample (by a hash of its run id,
so the decision is reproducible), or ``keep="all"``. A kept run goes to the
writer's queue; any other is forgotten, with no I/O.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
from datetime import UTC, datetime
from typing import Any

from agentreplay.capture.retention import Retention
from agentreplay.capture.runs import CaptureRun
from agentreplay.capture.settings import CAPTURE_ENV, OFF_VALUES, Settings, from_env
from agentreplay.capture.sinks import FolderSink, open_sink
from agentreplay.capture.stats import CaptureStats, Counters
from agentreplay.capture.writer import Job, Writer
from agentreplay.runtime import registry
from agentreplay.runtime.scope import active_session

__all__ = ["Capture", "Settings", "current", "disable", "enable", "new_run", "sampled"]


def sampled(run_id: str, fraction: float) -> bool:
    """Is run ``run_id`` in a sample of ``fraction``? The same answer every time."""
    if fraction <= 0:
        return False
    digest = hashlib.blake2b(run_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < fraction * 2**64


class Capture:
    """Capture, switched on with one set of `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sink = open_sink(settings.sink)
        self.counters = Counters()
        retention = None
        if isinstance(self.sink, FolderSink) and (settings.max_age or settings.max_total_bytes):
            retention = Retention(self.sink.root, settings.max_age, settings.max_total_bytes)
        self.writer = Writer(self.sink, self.counters, settings.max_queue_bytes, retention)
        registry.activate()
        self._active = True
        self._lock = threading.Lock()

    def close(self, timeout: float | None = None) -> bool:
        """Write what is queued (up to ``timeout``, default ``flush_timeout``), then stop."""
        with self._lock:
            if not self._active:
                return True
            self._active = False
        flushed = self.writer.close(self.settings.flush_timeout if timeout is None else timeout)
        try:
            registry.deactivate()
        except Exception as exc:
            self.counters.warn("hooks", f"removing the hooks failed: {exc!r}")
        return flushed

    def stats(self) -> CaptureStats:
        queued, queued_bytes = self.writer.queued
        return self.counters.snapshot(queued, queued_bytes)

    def trouble(self, counter: str, kind: str, message: str) -> None:
        self.counters.add(counter)
        self.counters.warn(kind, message)

    def run(
        self,
        kind: str,
        name: str,
        metadata: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
    ) -> CaptureRun:
        extra = {**(header or {}), "capture": {"kind": kind, "name": name}}
        return CaptureRun(self, kind, name, metadata=metadata, header=extra)

    # -- the end of a run ------------------------------------------------------
    def keep_reason(self, run: CaptureRun) -> str | None:
        settings = self.settings
        if run.failed:
            return "error"
        if run.flags:
            return "flagged"
        if settings.slow_after is not None and run.duration > settings.slow_after:
            return "slow"
        if run.run_id is not None and sampled(run.run_id, settings.sample):
            return "sample"
        if settings.keep == "all":
            return "all"
        return None

    def finished(self, run: CaptureRun) -> None:
        """Called as ``run`` stops: keep it (queue it for the writer) or forget it."""
        try:
            self._finished(run)
        except Exception as exc:
            self.trouble("record_errors", "finish", f"a run could not be finished: {exc!r}")

    def _finished(self, run: CaptureRun) -> None:
        self.counters.add("runs")
        memory = run.memory
        if memory is None or run.run_id is None:
            return
        if memory.truncated:
            self.counters.add("truncated")
        reason = self.keep_reason(run)
        if reason is None:
            memory.abandon()
            self.counters.count("dropped", "not_kept")
            return
        described = run.describe()
        described["kept"] = reason
        header = dict(run.header)
        header["capture"] = {**header.get("capture", {}), **described}
        header["truncated"] = described["truncated"]
        started = datetime.fromtimestamp(run.started_ns / 1e9, UTC)
        day = started.strftime("%Y-%m-%d")
        key = f"{day}/{started.strftime('%H%M%S.%f')[:-3]}-{run.run_id}.cassette"
        entry = {
            "run_id": run.run_id,
            "key": key,
            "start": started.isoformat(),
            "start_ns": run.started_ns,
            "pid": os.getpid(),
            **described,
        }
        if run.kind == "entrypoint":
            entry["entrypoint"] = header.get("entrypoint")
        job = Job(memory, header, entry, key, day, max(memory.size, 1))
        if self.writer.submit(job):
            self.counters.count("kept", reason)
        else:
            memory.abandon()


# -- the switch ----------------------------------------------------------------

_lock = threading.RLock()
_enabled: Capture | None = None
_from_env: tuple[str, Capture | None] | None = None  # (the value it was made from, it)
_exit_hooked = False


def _hook_exit() -> None:
    global _exit_hooked
    if not _exit_hooked:
        atexit.register(_at_exit)
        _exit_hooked = True


def _at_exit() -> None:
    for capture in (_enabled, _from_env[1] if _from_env else None):
        if capture is not None:
            capture.close()


def enable(settings: Settings) -> Capture:
    global _enabled
    with _lock:
        previous, _enabled = _enabled, Capture(settings)
        _hook_exit()
    if previous is not None:
        previous.close()
    return _enabled


def disable(timeout: float | None = None) -> bool:
    """Turn off what the code enabled; True if everything queued was written."""
    global _enabled
    with _lock:
        previous, _enabled = _enabled, None
    return True if previous is None else previous.close(timeout)


def _env_capture(value: str) -> Capture | None:
    global _from_env
    with _lock:
        if _from_env is not None and _from_env[0] == value:
            return _from_env[1]
        old = _from_env[1] if _from_env is not None else None
        capture: Capture | None = None
        try:
            settings = from_env(value)
            capture = Capture(settings) if settings is not None else None
        except Exception as exc:
            import logging

            logging.getLogger("agentreplay.capture").error(
                "agentreplay capture: %s=%r is not usable, capture stays off: %s",
                CAPTURE_ENV,
                value,
                exc,
            )
        _from_env = (value, capture)
        _hook_exit()
    if old is not None:
        old.close()
    return capture


def current() -> Capture | None:
    """The capture in force now, or None."""
    value = os.environ.get(CAPTURE_ENV)
    if value is not None and value.strip().lower() in OFF_VALUES:
        return None
    if _enabled is not None:
        return _enabled
    if value is None:
        return None
    return _env_capture(value)


def new_run(
    kind: str,
    name: str,
    metadata: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
) -> CaptureRun | None:
    """A run to capture here, or None: capture is off, or this code already belongs to a
    session (a recording, a replay, another captured run)."""
    capture = current()
    if capture is None:
        return None
    owner = active_session()
    if owner is not None and owner.running:
        return None
    return capture.run(kind, name, metadata, header)
