"""One line under the panes for what the last key did: matches, copies, jumps."""

from __future__ import annotations

from textual.widgets import Static

__all__ = ["StatusLine"]


class StatusLine(Static):
    """The last message; an error one in the theme's error colour."""

    def say(self, message: str, *, error: bool = False) -> None:
        self.set_class(error, "-error")
        self.update(message)
