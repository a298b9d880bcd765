"""The HTTP tab: the request and the response as they went over the wire."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from agentreplay.steps import Step
from agentreplay.tui.render import body, headers

__all__ = ["HttpView"]


class HttpView(VerticalScroll):
    """Request and response lines, headers (redacted values marked) and bodies."""

    def compose(self) -> ComposeResult:
        yield Static(id="http-body")

    def show(self, step: Step) -> None:
        parts: list[RenderableType] = []
        request = Text(f"{step.method} {step.url}", style="bold")
        parts.append(Panel(Group(request, headers(step.request_headers or ())), title="request"))
        parts.append(Panel(body(step.request_body or b""), title="request body"))
        if step.response_headers is None:
            reason = f": {step.error}" if step.error else ""
            parts.append(Text(f"no response (the exchange failed before one came){reason}"))
        else:
            line = f"{step.http_version or 'HTTP'} {step.http_status} {step.http_reason or ''}"
            status = Text(line.strip(), style="bold red" if step.status == "error" else "bold")
            parts.append(Panel(Group(status, headers(step.response_headers)), title="response"))
            parts.append(Panel(body(step.response_body or b""), title="response body"))
        self.query_one("#http-body", Static).update(Group(*parts))
        self.scroll_home(animate=False)
