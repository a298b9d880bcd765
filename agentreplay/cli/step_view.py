"""``agentreplay show FILE --step N``: one step in full."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

import agentreplay.humanize as fmt
from agentreplay.cassette.events import Headers
from agentreplay.llm import content_text
from agentreplay.steps import BODY_LIMIT, Step, body_plain

__all__ = ["content_text", "render_step"]

PREVIEW = 4096
"""Bytes of an HTTP body shown in the terminal; ``--json`` includes more."""

_ROLE_STYLE = {"system": "magenta", "user": "cyan", "assistant": "green", "tool": "yellow"}


def _add_line(text: Text, line: str, style: str = "") -> None:
    """Append ``line`` on a line of its own (no blank first line when text is empty)."""
    if text.plain:
        text.append("\n")
    text.append(line, style)


def _message_panel(message: dict[str, Any]) -> Panel:
    role = str(message.get("role", "?"))
    body = Text(content_text(message.get("content", "")))
    for call in message.get("tool_calls") or []:
        function = call.get("function", call)
        _add_line(
            body,
            f"[tool call {call.get('id', '')}] {function.get('name')}"
            f"({function.get('arguments', '')})",
        )
    if message.get("tool_call_id"):
        role += f" (for {message['tool_call_id']})"
    return Panel(
        body, title=role, title_align="left", border_style=_ROLE_STYLE.get(role.split()[0], "white")
    )


def _facts(step: Step) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_row("step", f"{step.number} ({step.kind}), task {step.task}, parent {step.parent}")
    grid.add_row("status", step.status + (f": {step.error}" if step.error else ""))
    grid.add_row("started", f"{step.start_at / 1e9:.3f} s into the run")
    grid.add_row("duration", fmt.seconds(step.duration))
    if step.url:
        grid.add_row("request", f"{step.method} {step.url}")
        grid.add_row("response", f"HTTP {step.http_status}, {step.body_bytes:,} B body")
    if step.reads:
        grid.add_row("clock/entropy", fmt.plural(step.reads, "read"))
    return grid


def render_step(step: Step, console: Console) -> None:
    console.print(
        Panel(_facts(step), title=f"step {step.number}: {escape(step.label)}", title_align="left")
    )
    llm = step.llm
    if llm is not None:
        timing = Table.grid(padding=(0, 2))
        timing.add_row(
            "model",
            f"{llm.model} ({llm.provider}, {llm.api})"
            + (
                f", answered by {llm.response_model}"
                if llm.response_model and llm.response_model != llm.model
                else ""
            ),
        )
        timing.add_row("parameters", json.dumps(llm.params) if llm.params else "-")
        timing.add_row("time to first token", fmt.seconds(llm.ttft))
        if llm.gaps:
            timing.add_row("chunk gaps", f"{len(llm.gaps)} gaps, max {fmt.seconds(max(llm.gaps))}")
        timing.add_row("tokens", _tokens(llm.input_tokens, llm.cached_tokens, llm.output_tokens))
        timing.add_row("cost", fmt.cost(step.cost) or "unknown model")
        timing.add_row("finish", str(llm.finish_reason))
        console.print(Panel(timing, title="call", title_align="left"))
        if llm.tools:
            names = ", ".join(str(tool.get("name")) for tool in llm.tools)
            console.print(f"[bold]tools offered:[/] {escape(names)}")
        console.print("[bold]messages sent[/]")
        console.print(Group(*(_message_panel(m) for m in llm.messages)))
        answer = Text(llm.output_text)
        if llm.thinking:
            answer = Text(f"(thinking) {llm.thinking}\n\n", style="dim") + answer
        for call in llm.tool_calls:
            _add_line(answer, f"[tool call {call.id}] {call.name}({call.arguments})", "yellow")
        console.print(Panel(answer, title="response", title_align="left", border_style="green"))
    elif step.kind == "http" and step.request_headers is not None:
        _render_exchange(step, console)
    elif step.kind == "tool":
        console.print(
            Panel(
                Text(
                    json.dumps(
                        {"args": step.args, "kwargs": step.kwargs}, ensure_ascii=False, default=str
                    )
                ),
                title="arguments",
                title_align="left",
            )
        )
        console.print(
            Panel(
                Text(step.error or json.dumps(step.value, ensure_ascii=False, default=str)),
                title="raised" if step.error else "returned",
                title_align="left",
            )
        )


def _tokens(ins: int | None, cached: int | None, outs: int | None) -> str:
    if ins is None and outs is None:
        return "unknown (the response reported no usage)"
    return f"{_count(ins)} in ({cached or 0} cached), {_count(outs)} out"


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _render_exchange(step: Step, console: Console) -> None:
    assert step.request_headers is not None
    console.print(_headers_panel("request headers", step.request_headers))
    console.print(_body_panel("request body", step.request_body or b""))
    if step.response_headers is None:
        console.print("[bold]no response[/] (the exchange failed before one came)")
        return
    console.print(_headers_panel("response headers", step.response_headers))
    console.print(_body_panel("response body", step.response_body or b""))


def _headers_panel(title: str, headers: Headers) -> Panel:
    grid = Table.grid(padding=(0, 1))
    for name, value in headers:
        grid.add_row(Text(f"{name}:", style="bold"), Text(value))
    return Panel(grid if headers else Text("(none)"), title=title, title_align="left")


def _body_panel(title: str, data: bytes) -> Panel:
    plain = body_plain(data, PREVIEW)
    if not data:
        text = Text("(empty)", style="dim")
    elif plain["encoding"] != "utf-8":
        text = Text(f"{len(data):,} B of binary data (--json has it in base64)", style="dim")
    else:
        text = Text(_pretty(plain["data"]) if "note" not in plain else plain["data"])
        if "note" in plain:
            text.append(
                f"\n… the first {PREVIEW:,} of {len(data):,} B; --json has up to {BODY_LIMIT:,}",
                style="dim",
            )
    return Panel(text, title=title, title_align="left")


def _pretty(text: str) -> str:
    """JSON indented for reading; anything else as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text
