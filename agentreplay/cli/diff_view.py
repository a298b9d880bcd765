"""How ``agentreplay diff`` draws a `RunDiff`: the aligned table and pairs in full."""

from __future__ import annotations

import difflib
import json
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

import agentreplay.humanize as fmt
from agentreplay.jsondiff import short
from agentreplay.llm import content_text
from agentreplay.rundiff import FieldChange, Row, RunDiff, Verdict
from agentreplay.rundiff.text import plain
from agentreplay.steps import Step

__all__ = ["render_pair", "render_table"]

_STYLE = {
    Verdict.SAME: "",
    Verdict.CHANGED: "bold yellow",
    Verdict.ONLY_A: "bold red",
    Verdict.ONLY_B: "bold green",
}


def _signed_seconds(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) < 0.0005:
        return "0 ms"
    sign = "-" if value < 0 else "+"
    return sign + fmt.seconds(abs(value))


def _signed(value: int | None) -> str:
    return "" if value is None else f"{value:+,}"


def _tokens(row: Row) -> str:
    deltas = row.deltas
    if deltas.input_tokens is None and deltas.output_tokens is None:
        return ""
    return f"{_signed(deltas.input_tokens) or '-'} / {_signed(deltas.output_tokens) or '-'}"


def _cells(row: Row) -> tuple[str, ...]:
    style = _STYLE[row.verdict]
    verdict = row.verdict.words
    if row.reads is not None and row.reads.summary():
        # Never the verdict: beside a change, an aside.
        also = "and " if row.verdict is not Verdict.SAME else ""
        verdict += f" [dim]({also}{escape(row.reads.summary())})[/]"
    return (
        str(row.a.number) if row.a else "-",
        str(row.b.number) if row.b else "-",
        row.kind,
        escape(row.name),
        f"[{style}]{verdict}[/]" if style else verdict,
        _signed_seconds(row.deltas.duration),
        _tokens(row),
    )


def _shown(rows: list[Row], context: int) -> list[Row | int]:
    """The rows to print: every differing row, ``context`` same rows around each, and the
    count of same rows left out in their place (all rows when ``context`` < 0)."""
    if context < 0:
        return list(rows)
    near: set[int] = set()
    for at, row in enumerate(rows):
        if row.verdict is not Verdict.SAME:
            near.update(range(at - context, at + context + 1))
    out: list[Row | int] = []
    for at, row in enumerate(rows):
        if at in near or row.verdict is not Verdict.SAME:
            out.append(row)
        elif out and isinstance(out[-1], int):
            out[-1] += 1
        else:
            out.append(1)
    return out


def render_table(result: RunDiff, console: Console, context: int) -> None:
    table = Table("A", "B", "kind", "name", "verdict", "Δ duration", "Δ tokens in/out")
    table.columns[3].overflow = "ellipsis"
    table.columns[3].max_width = max(16, console.width - 62)
    table.columns[3].no_wrap = True
    for item in _shown(result.rows, context):
        if isinstance(item, int):
            table.add_row("", "", "", f"[dim]… {fmt.plural(item, 'same step')}[/]", "", "", "")
        else:
            table.add_row(
                *_cells(item), style="on grey11" if item.verdict is not Verdict.SAME else ""
            )
    console.print(table)


def _change_text(change: FieldChange, color: bool) -> Text:
    where = change.path
    if change.label:
        end = where.find("]")
        where = f"{where[: end + 1]} ({change.label}){where[end + 1 :]}" if end >= 0 else where
    if change.b_path:
        where += f" (B: {change.b_path})"
    line = Text(f"{where}: ", style="bold")
    if change.kind == "added":
        line.append(f"added {short(change.new, 200)}", "green")
        return line
    if change.kind == "removed":
        line.append(f"removed {short(change.old, 200)}", "red")
        return line
    pieces = change.text_diff()
    if pieces is None:
        line.append(short(change.old, 100), "red")
        line.append(" → ")
        line.append(short(change.new, 100), "green")
        return line
    if not color:  # no styles to tell removed from added words: mark them
        line.append(plain(pieces, context=90))
        return line
    for op, text in pieces:
        style = {"=": "", "-": "red strike", "+": "green underline"}[op]
        if op == "=" and len(text) > 200:
            text = f"{text[:90]} … {text[-90:]}"
        line.append(text, style)
    return line


def _message_lines(messages: list[dict[str, Any]]) -> list[str]:
    lines = []
    for index, message in enumerate(messages):
        lines.append(f"[{index}] {message.get('role', '?')}:")
        text = content_text(message.get("content"))
        lines += [f"    {line}" for line in text.splitlines() or [""]]
        for call in message.get("tool_calls") or []:
            function = call.get("function", call)
            lines.append(f"    [tool call] {function.get('name')}({function.get('arguments', '')})")
    return lines


def _answer_lines(step: Step) -> list[str]:
    assert step.llm is not None
    lines = step.llm.output_text.splitlines()
    lines += [
        f"[tool call] {c.name}({json.dumps(c.parsed) if c.parsed is not None else c.arguments})"
        for c in step.llm.tool_calls
    ]
    lines.append(f"(finish: {step.llm.finish_reason})")
    return lines


def _unified(title: str, a: list[str], b: list[str]) -> Panel | None:
    lines = list(difflib.unified_diff(a, b, "A", "B", lineterm="", n=2))
    if not lines:
        return None
    text = Text()
    for at, line in enumerate(lines[2:]):
        style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "")
        text.append(("\n" if at else "") + line, style)
    return Panel(text, title=title, title_align="left")


def render_pair(result: RunDiff, row: Row, console: Console) -> None:
    """One row in full: its field changes, and for a model call the unified diffs of the
    prompt messages and of the answer."""
    a = f"step {row.a.number}" if row.a else "-"
    b = f"step {row.b.number}" if row.b else "-"
    what = f"{escape(row.kind)} {escape(row.name)} (task {escape(row.task)})"
    title = f"A {a} / B {b}: {what}, {row.verdict.words}"
    parts: list[Any] = []
    if row.verdict is Verdict.CHANGED:
        color = console.color_system is not None
        parts += [_change_text(change, color) for change in row.changes]
    elif row.verdict is Verdict.SAME:
        parts.append(Text("nothing that counts differs", style="dim"))
    else:
        parts.append(Text(f"only run {'A' if row.a else 'B'} has this step", style="dim"))
    if row.reads is not None and row.reads.summary():
        parts.append(Text(f"clock and entropy: {row.reads.summary()}", style="dim"))
    deltas = row.deltas
    if deltas.duration is not None:
        timing = f"Δ duration {_signed_seconds(deltas.duration)}"
        if deltas.ttft is not None:
            timing += f", Δ TTFT {_signed_seconds(deltas.ttft)}"
        if _tokens(row):
            timing += f", Δ tokens in/out {_tokens(row)}"
        if deltas.cost is not None:
            timing += f", Δ cost {'-' if deltas.cost < 0 else '+'}{fmt.cost(abs(deltas.cost))}"
        parts.append(Text(timing, style="dim"))
    console.print(Panel(Group(*parts), title=title, title_align="left"))
    if row.verdict is not Verdict.CHANGED or row.kind != "llm":
        return
    step_a, step_b = result.steps(row)
    if step_a is None or step_b is None or step_a.llm is None or step_b.llm is None:
        return
    for panel in (
        _unified(
            "prompt messages",
            _message_lines(step_a.llm.messages),
            _message_lines(step_b.llm.messages),
        ),
        _unified("answer", _answer_lines(step_a), _answer_lines(step_b)),
    ):
        if panel is not None:
            console.print(panel)
