"""The Answer tab: what an LLM step answered, or what a tool returned."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

import agentreplay.humanize as fmt
from agentreplay.steps import Step
from agentreplay.tui.render import pretty

__all__ = ["AnswerView"]


class AnswerView(VerticalScroll):
    """Text, tool calls with their arguments, finish reason, usage and cost."""

    def compose(self) -> ComposeResult:
        yield Static(id="answer-body")

    def show(self, step: Step) -> None:
        parts = _llm(step) if step.llm is not None else _tool(step)
        self.query_one("#answer-body", Static).update(Group(*parts))
        self.scroll_home(animate=False)


def _llm(step: Step) -> list[RenderableType]:
    llm = step.llm
    assert llm is not None
    parts: list[RenderableType] = []
    if step.error:
        parts.append(Text(f"error: {step.error}", style="bold red"))
    if llm.thinking:
        parts.append(Panel(Text(llm.thinking, style="dim"), title="thinking", title_align="left"))
    text = Text(llm.output_text) if llm.output_text else Text("(no text)", style="dim")
    parts.append(Panel(text, title="answer", title_align="left", border_style="green"))
    for call in llm.tool_calls:
        arguments = pretty(call.parsed) if call.parsed is not None else Text(call.arguments)
        parts.append(
            Panel(
                arguments,
                title=f"tool call {call.name}",
                subtitle=call.id or None,
                title_align="left",
                border_style="yellow",
            )
        )
    usage = Text()
    usage.append("finish ", style="dim")
    usage.append(str(llm.finish_reason or "-"))
    usage.append("   tokens ", style="dim")
    if llm.input_tokens is None and llm.output_tokens is None:
        usage.append("not reported")
    else:
        usage.append(f"{_count(llm.input_tokens)} in")
        if llm.cached_tokens:
            usage.append(f" ({llm.cached_tokens:,} cached)")
        usage.append(f", {_count(llm.output_tokens)} out")
    usage.append("   cost ", style="dim")
    usage.append(fmt.cost(step.cost) or "unknown model")
    if llm.response_model and llm.response_model != llm.model:
        usage.append("   answered by ", style="dim")
        usage.append(llm.response_model)
    parts.append(usage)
    return parts


def _tool(step: Step) -> list[RenderableType]:
    call = Panel(
        pretty({"args": step.args, "kwargs": step.kwargs}),
        title=f"called {step.name}",
        title_align="left",
    )
    if step.error:
        result: RenderableType = Panel(
            Text(step.error, style="bold red"), title="raised", title_align="left"
        )
    elif step.status == "open":
        result = Text("(the recording stopped before it returned)", style="dim")
    else:
        result = Panel(pretty(step.value), title="returned", title_align="left")
    return [call, result]


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
