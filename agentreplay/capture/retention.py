"""Retention for folder sinks: how old and how much the kept runs may grow.

Applied by the writer after it writes, at most once every `INTERVAL` seconds:
cassettes older than ``max_age`` seconds are removed, then the oldest ones
until all of them together take at most ``max_total_bytes``. A day folder
left with no cassette is removed with its manifest. Object stores have
lifecycle rules of their own for this; there, retention is theirs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Final

from agentreplay.runtime import escape

__all__ = ["INTERVAL", "Retention"]

INTERVAL: Final = 60.0


class Retention:
    def __init__(self, root: Path, max_age: float | None, max_total_bytes: int | None) -> None:
        self.root = root
        self.max_age = max_age
        self.max_total_bytes = max_total_bytes
        self._last: float | None = None
        self.removed = 0

    def __call__(self) -> None:
        now = escape.monotonic()
        if self._last is not None and now - self._last < INTERVAL:
            return
        self._last = now
        self.apply()

    def apply(self) -> None:
        """Remove what is past the limits now."""
        cassettes = []
        for path in self.root.glob("????-??-??/*.cassette"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                cassettes.append((stat.st_mtime, stat.st_size, path))
        cassettes.sort()
        wall = escape.time_ns() / 1e9
        total = sum(size for _, size, _ in cassettes)
        kept = []
        for mtime, size, path in cassettes:
            too_old = self.max_age is not None and wall - mtime > self.max_age
            if too_old:
                total -= size
                self._remove(path)
            else:
                kept.append((size, path))
        if self.max_total_bytes is not None:
            for size, path in kept:
                if total <= self.max_total_bytes:
                    break
                total -= size
                self._remove(path)
        for day in self.root.glob("????-??-??"):
            if day.is_dir() and not any(day.glob("*.cassette")):
                shutil.rmtree(day, ignore_errors=True)

    def _remove(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            os.unlink(path)
            self.removed += 1
