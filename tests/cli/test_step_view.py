"""agentreplay show FILE --step N, rendered: parts no recording of ours produces."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from rich.console import Console

from agentreplay.cli.step_view import PREVIEW, render_step
from agentreplay.llm import LLMCall, ToolCallInfo
from agentreplay.steps import Step


def _rendered(step: Step) -> str:
    out = io.StringIO()
    render_step(step, Console(file=out, width=120, color_system=None))
    return out.getvalue()


def _call(**fields: Any) -> Step:
    """An LLM step: a streamed chat answer "hi" with no usage, but for ``fields``."""
    call = LLMCall(
        provider="openai",
        api="chat.completions",
        model="gpt-4o",
        response_model=None,
        messages=[],
        tools=[],
        params={},
        stream=True,
        output_text="hi",
        thinking="",
        tool_calls=[],
        finish_reason="stop",
        input_tokens=None,
        output_tokens=None,
        cached_tokens=None,
        ttft=None,
        duration=None,
        gaps=[],
        status=200,
        error=None,
    )
    return Step(1, "llm", "POST x", "0", 0, 0, 10, "ok", llm=dataclasses.replace(call, **fields))


def test_a_call_whose_stream_reported_no_usage_has_unknown_tokens_not_none() -> None:
    out = _rendered(_call())
    assert "unknown (the response reported no usage)" in out and "None in" not in out


def test_an_answer_of_tool_calls_alone_starts_with_the_first_call() -> None:
    earlier = {"id": "c0", "function": {"name": "earlier", "arguments": "{}"}}
    step = _call(
        messages=[{"role": "assistant", "content": None, "tool_calls": [earlier]}],
        output_text="",
        tool_calls=[ToolCallInfo("c1", "lookup", '{"id": 1}', {"id": 1})],
        finish_reason="tool_calls",
    )
    lines = _rendered(step).splitlines()
    for title, first in (("response", "[tool call c1] lookup"), ("assistant", "[tool call c0]")):
        at = next(i for i, line in enumerate(lines) if f"─ {title} ─" in line)
        assert lines[at + 1].strip("│ ").startswith(first)


def _http(response_body: bytes) -> Step:
    return Step(
        1,
        "http",
        "GET http://x.test/",
        "0",
        0,
        0,
        10,
        "ok",
        request_headers=(("Accept", "*/*"),),
        request_body=b"",
        response_headers=(("content-type", "application/octet-stream"),),
        response_body=response_body,
    )


def test_a_binary_body_is_described_not_dumped() -> None:
    out = _rendered(_http(b"\xff\xfe\x00" * 10))
    assert "30 B of binary data (--json has it in base64)" in out
    assert "request body" in out and "(empty)" in out


def test_a_long_body_is_previewed_with_a_note() -> None:
    out = _rendered(_http(b"x" * (PREVIEW + 100)))
    assert f"the first {PREVIEW:,} of {PREVIEW + 100:,} B; --json has up to 65,536" in out


def test_a_failed_exchange_says_there_was_no_response() -> None:
    step = _http(b"")
    step.response_headers = step.response_body = None
    assert "no response" in _rendered(step)
