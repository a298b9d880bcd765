"""The one-line prompt at the bottom for ``g`` (go to step) and ``/`` (search)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

__all__ = ["PromptBar"]


class PromptBar(Input):
    """Asks for one value, then hides itself; Escape gives up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    class Answered(Message):
        """The user typed a value for ``purpose`` and pressed Enter."""

        def __init__(self, prompt_bar: PromptBar, purpose: str, value: str) -> None:
            super().__init__()
            self.prompt_bar = prompt_bar
            self.purpose = purpose
            self.value = value

        @property
        def control(self) -> PromptBar:
            return self.prompt_bar

    class Cancelled(Message):
        """The user pressed Escape."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.purpose = ""

    def on_mount(self) -> None:
        self.display = False

    def ask(self, purpose: str, placeholder: str, *, digits: bool = False) -> None:
        self.purpose = purpose
        self.placeholder = placeholder
        self.type = "integer" if digits else "text"
        self.value = ""
        self.display = True
        # At once, not on the next refresh: keys typed right after ``g`` or ``/`` are
        # already queued, and must land here.
        self.screen.set_focus(self)

    def _close(self) -> None:
        self.display = False
        self.value = ""

    async def action_submit(self) -> None:
        value = self.value.strip()
        purpose = self.purpose
        self._close()
        if value:
            self.post_message(self.Answered(self, purpose, value))
        else:
            self.post_message(self.Cancelled())

    def action_cancel(self) -> None:
        self._close()
        self.post_message(self.Cancelled())
