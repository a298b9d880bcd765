"""Rich renderables shared by the detail views: bodies, headers, JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import RenderableType
from rich.json import JSON
from rich.table import Table
from rich.text import Text

from agentreplay.cassette.events import Headers
from agentreplay.session.redaction import REDACTED
from agentreplay.steps import body_plain

__all__ = ["PREVIEW", "REDACTED", "body", "compact_json", "headers", "moment", "pretty"]

PREVIEW = 16 * 1024
"""Bytes of an HTTP body shown; `y` writes the step's JSON with more."""


def pretty(value: Any) -> RenderableType:
    """A plain value as indented, highlighted JSON."""
    try:
        return JSON.from_data(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return Text(repr(value))


def body(data: bytes) -> RenderableType:
    """An HTTP body: JSON indented, text as it is, binary data by its size."""
    if not data:
        return Text("(empty)", style="dim")
    plain = body_plain(data, PREVIEW)
    if plain["encoding"] != "utf-8":
        return Text(f"{len(data):,} B of binary data", style="dim")
    text: str = plain["data"]
    if "note" in plain:
        return Text(text) + Text(f"\n… {plain['note']}", style="dim")
    try:
        return JSON(text, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return Text(text)


def headers(pairs: Headers) -> RenderableType:
    if not pairs:
        return Text("(no headers)", style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in pairs:
        shown = Text(value, style="italic yellow") if REDACTED in value else Text(value)
        if REDACTED in value:
            shown.append("  (redacted when recorded)", style="dim")
        grid.add_row(f"{name}:", shown)
    return grid


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def moment(created: object) -> str:
    """A header's ``created`` time (ISO 8601, UTC) to the second: ``2026-11-28 10:46:20``."""
    text = str(created or "?")
    return text[:19].replace("T", " ") if len(text) >= 19 and text[10] == "T" else text
