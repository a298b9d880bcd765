"""The ``?`` screen: every key that works where it was pressed, and what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agentreplay.tui.widgets.step_list import KIND_MARKS

__all__ = ["HelpScreen", "KeyHelp"]

KeyHelp = tuple[str, str, str]
"""(keys as shown, what the action does, its id for the key config)."""


class HelpScreen(ModalScreen[None]):
    """The keys of the screen below, as remapped, with the action ids to remap them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, keys: list[KeyHelp], config: str) -> None:
        super().__init__()
        self.keys = keys
        self.config = config

    def compose(self) -> ComposeResult:
        table = Table("key", "action", "id (to remap)", box=None, pad_edge=False, expand=True)
        for keys, description, action_id in self.keys:
            table.add_row(Text(keys, style="bold"), description, Text(action_id, style="dim"))
        kinds = ", ".join(f"{mark} {kind}" for kind, mark in KIND_MARKS.items())
        note = Text(
            f"\nStep kinds: {kinds}. Errors are in the error colour; … marks a step the "
            f"recording stopped inside.\nRemap keys in {self.config} (see the docs). "
            f"Escape closes this screen.",
            style="dim",
        )
        with VerticalScroll(id="help-body"):
            yield Static(Text("agentreplay keys", style="bold"), id="help-title")
            yield Static(table)
            yield Static(note)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
