"""Below the aligned rows: what differs in the selected pair, field by field."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

import agentreplay.humanize as fmt
from agentreplay.tui.render import compact_json

if TYPE_CHECKING:
    from agentreplay.rundiff import FieldChange, Row

__all__ = ["FieldDiff"]


class FieldDiff(VerticalScroll):
    """The pair's field changes (message diffs, JSON paths, the answer's text diff), its
    time, token and cost deltas, and its reads."""

    def compose(self) -> ComposeResult:
        yield Static(id="field-diff-body")

    def show_reading(self, row: Row) -> None:
        self.query_one("#field-diff-body", Static).update(
            Text(f"{_title(row)} · reading what differs…", style="dim")
        )

    def show(self, row: Row, changes: list[FieldChange]) -> None:
        parts: list[RenderableType] = [Text(_title(row), style="bold")]
        verdict = row.verdict.value
        if verdict == "same":
            parts.append(Text("the same in both runs", style="dim"))
        elif verdict in ("only_a", "only_b"):
            where = "A" if verdict == "only_a" else "B"
            parts.append(Text(f"only run {where} has this step", style="dim"))
        for change in changes:
            parts.append(_change(change))
        deltas = _deltas(row)
        if deltas:
            parts.append(Text(deltas, style="dim"))
        if row.reads is not None and row.reads.summary():
            parts.append(Text(row.reads.summary(), style="dim"))
        self.query_one("#field-diff-body", Static).update(Group(*parts))
        self.scroll_home(animate=False)


def _title(row: Row) -> str:
    a = f"A step {row.a.number}" if row.a else "A -"
    b = f"B step {row.b.number}" if row.b else "B -"
    return f"{a} / {b} · {row.name} · {row.verdict.words}"


def _change(change: FieldChange) -> RenderableType:
    head = Text()
    head.append(change.path, style="bold")
    if change.label:
        head.append(f" ({change.label})", style="dim")
    if change.b_path and change.b_path != change.path:
        head.append(f" → {change.b_path} in B", style="dim")
    head.append(f"  {change.kind}", style="dim")
    pieces = change.text_diff()
    body = Text("  ")
    if pieces is not None:
        for op, text in pieces:
            style = {"-": "strike red", "+": "bold green"}.get(op, "")
            body.append(text, style=style)
    else:
        if change.kind != "added":
            body.append(_value(change.old), style="red")
        if change.kind == "changed":
            body.append(" → ")
        if change.kind != "removed":
            body.append(_value(change.new), style="green")
    return Group(head, body)


def _value(value: object) -> str:
    return value if isinstance(value, str) else compact_json(value)


def _deltas(row: Row) -> str:
    if row.a is None or row.b is None:
        return ""
    d = row.deltas
    parts = []
    if d.duration:
        parts.append(f"time {'+' if d.duration > 0 else '-'}{fmt.seconds(abs(d.duration))}")
    if d.input_tokens or d.output_tokens:
        parts.append(f"tokens {d.input_tokens or 0:+,} in / {d.output_tokens or 0:+,} out")
    if d.cost:
        parts.append(f"cost {'+' if d.cost > 0 else '-'}{fmt.cost(abs(d.cost))}")
    return " · ".join(parts)
