"""The Prompt tab: what an LLM step sent, message by message."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Collapsible, Static

from agentreplay.llm import content_text
from agentreplay.steps import Step
from agentreplay.tui.render import compact_json, pretty

__all__ = ["PromptView"]

ROLE_STYLES = {"system": "magenta", "user": "cyan", "assistant": "green", "tool": "yellow"}


class PromptView(VerticalScroll):
    """The model, sampling parameters, tools offered (folded) and the messages sent."""

    def compose(self) -> ComposeResult:
        yield Static(id="prompt-facts")
        with Collapsible(title="tools offered", collapsed=True, id="prompt-tools"):
            yield Static(id="prompt-tools-body")
        yield Static(id="prompt-messages")

    def show(self, step: Step) -> None:
        llm = step.llm
        if llm is None:
            return
        facts = Text()
        facts.append(llm.model or "(no model named)", style="bold")
        facts.append(f"  {llm.provider} · {llm.api}" + (" · streamed" if llm.stream else ""))
        for name, value in llm.params.items():
            facts.append(f"\n{name} = ", style="dim")
            facts.append(value if isinstance(value, str) else compact_json(value))
        self.query_one("#prompt-facts", Static).update(facts)
        tools = self.query_one("#prompt-tools", Collapsible)
        tools.display = bool(llm.tools)
        names = ", ".join(str(tool.get("name")) for tool in llm.tools)
        tools.title = f"{len(llm.tools)} tools offered: {names}"
        tools.collapsed = True
        self.query_one("#prompt-tools-body", Static).update(pretty(llm.tools))
        panels = [_message(message) for message in llm.messages]
        self.query_one("#prompt-messages", Static).update(
            Group(*panels) if panels else Text("(no messages)", style="dim")
        )
        self.scroll_home(animate=False)


def _message(message: dict[str, Any]) -> RenderableType:
    role = str(message.get("role", "?"))
    body = Text(content_text(message.get("content", "")))
    for call in message.get("tool_calls") or []:
        function = call.get("function", call) if isinstance(call, dict) else {}
        if body.plain:
            body.append("\n")
        body.append(
            f"[tool call {call.get('id', '')}] {function.get('name')}"
            f"({function.get('arguments', '')})",
            style="yellow",
        )
    title = role + (f" (for {message['tool_call_id']})" if message.get("tool_call_id") else "")
    return Panel(
        body,
        title=title,
        title_align="left",
        border_style=ROLE_STYLES.get(role, "white"),
    )
