"""Screens ask the app to open other screens: no screen imports another.

A screen posts `OpenRun` or `OpenDiff`; the message bubbles up to the app,
which makes and pushes the screen.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

__all__ = ["OpenDiff", "OpenRun"]


class OpenRun(Message):
    """Open the run screen of ``path`` at ``step``."""

    def __init__(self, path: Path, step: int = 1) -> None:
        super().__init__()
        self.path = path
        self.step = step


class OpenDiff(Message):
    """Open the diff of runs ``a`` and ``b``, with ``notice`` above it."""

    def __init__(self, a: Path, b: Path, notice: str = "") -> None:
        super().__init__()
        self.a = a
        self.b = b
        self.notice = notice
