"""What capture has done, counted; and its warnings, at a bounded rate.

Capture behaves like a logging handler: whatever goes wrong is counted here
and reported through `logging` (the ``agentreplay.capture`` logger), each
kind of trouble at most once a minute, never raised into the application.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from agentreplay.runtime import escape

__all__ = ["LOG", "WARN_INTERVAL", "CaptureStats", "Counters"]

LOG: Final = logging.getLogger("agentreplay.capture")
WARN_INTERVAL: Final = 60.0
"""Seconds between two warnings of the same kind."""


@dataclass(frozen=True)
class CaptureStats:
    """A snapshot of capture's counters (`agentreplay.capture.stats()`).

    ``kept`` counts kept runs by reason (``error``, ``flagged``, ``slow``,
    ``sample``, ``all``); ``dropped`` counts runs not written, by reason
    (``not_kept``: nothing worth keeping; ``queue_full``: the writer was behind;
    ``write_error``: the sink refused it; ``shutdown``: still queued when the
    process ended). ``truncated`` runs passed ``max_run_bytes``.
    """

    runs: int = 0
    kept: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    written: int = 0
    bytes_written: int = 0
    write_errors: int = 0
    record_errors: int = 0
    truncated: int = 0
    queued: int = 0
    queued_bytes: int = 0


class Counters:
    """The live counters behind `CaptureStats`; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.runs = 0
        self.kept: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.written = 0
        self.bytes_written = 0
        self.write_errors = 0
        self.record_errors = 0
        self.truncated = 0
        self._warned: dict[str, float] = {}
        self._unreported: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def count(self, table: str, reason: str) -> None:
        with self._lock:
            getattr(self, table)[reason] += 1

    def snapshot(self, queued: int, queued_bytes: int) -> CaptureStats:
        with self._lock:
            return CaptureStats(
                runs=self.runs,
                kept=dict(self.kept),
                dropped=dict(self.dropped),
                written=self.written,
                bytes_written=self.bytes_written,
                write_errors=self.write_errors,
                record_errors=self.record_errors,
                truncated=self.truncated,
                queued=queued,
                queued_bytes=queued_bytes,
            )

    def warn(self, kind: str, message: str) -> None:
        """Log ``message`` unless a warning of ``kind`` went out in the last minute; the
        ones held back are counted into the next."""
        now = escape.monotonic()
        with self._lock:
            last = self._warned.get(kind)
            if last is not None and now - last < WARN_INTERVAL:
                self._unreported[kind] += 1
                return
            self._warned[kind] = now
            held = self._unreported.pop(kind, 0)
        more = f" ({held} more like it since the last warning)" if held else ""
        with contextlib.suppress(Exception):  # a broken logging handler is not ours to raise
            LOG.warning("agentreplay capture: %s%s", message, more)
