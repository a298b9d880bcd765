"""The agents the TUI tests record, with the real openai and anthropic SDKs against the
local model server, and the deterministic copies the snapshots show."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai

import agentreplay
from agentreplay.cassette import (
    CassetteWriter,
    ClockRead,
    EntropyDraw,
    HttpChunk,
    HttpRequest,
    HttpResponse,
)
from agentreplay.demo.model_server import ModelRequest, Reply, ToolCallSpec

TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Find an order by its id.",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
]


SUMMARY = "The order B-2001 could not be found."
"""What the Anthropic model answers; a second run changes it, to be diffed."""


def respond(request: ModelRequest, summary: str = SUMMARY) -> Reply:
    """The model's scripted answers: a tool call first, then text."""
    body = request.body
    if request.api == "messages":
        return Reply(text=summary, input_tokens=41, output_tokens=9)
    messages = body.get("messages", [])
    city = next((m["content"] for m in messages if m.get("role") == "user"), "")
    if "weather" in str(city).lower():
        return Reply(text=f"Sunny in {str(city).split()[-1]}", input_tokens=12, output_tokens=4)
    if not any(m.get("role") == "tool" for m in messages):
        return Reply(
            tool_calls=[ToolCallSpec("lookup_order", {"order_id": "B-2001"}, "call_1")],
            input_tokens=120,
            output_tokens=18,
        )
    return Reply(text="Let me check the order again.", input_tokens=180, output_tokens=7)


@agentreplay.tool
def remember(note: str) -> str:
    return note.upper()


def failing_agent(model_url: str, tools_url: str) -> str:
    """An agent that asks the model, calls tools, and fails on a missing key."""
    model = openai.OpenAI(base_url=f"{model_url}/v1", api_key="sk-test", max_retries=0)
    writer = anthropic.Anthropic(base_url=model_url, api_key="sk-ant-test", max_retries=0)
    messages: Any = [
        {"role": "system", "content": "You are a support agent. Use the tools."},
        {"role": "user", "content": "Where is my order B-2001?"},
    ]
    with httpx.Client(base_url=tools_url) as tools:
        with agentreplay.step("plan"):
            time.time()
            uuid.uuid4()
            with model.chat.completions.stream(
                model="gpt-4o",
                messages=messages,
                tools=TOOLS,
                temperature=0.2,
                stream_options={"include_usage": True},
            ) as stream:
                first = stream.get_final_completion().choices[0].message
        call = (first.tool_calls or [])[0]
        arguments = json.loads(call.function.arguments)
        result = tools.get(f"/tool/{arguments['order_id']}").json()
        remember("order lookup failed")
        writer.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=200,
            messages=[{"role": "user", "content": f"Summarise this lookup: {result}"}],
        )
        tools.get("/status/500")
        messages += [
            first.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)},
        ]
        model.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
        return str(result["order"])  # the bug: the tool answered without an order


async def concurrent_agent(model_url: str, tools_url: str) -> list[str]:
    """Two logical tasks, each asking the model and calling a tool, at the same time."""

    async def ask(city: str) -> str:
        async with (
            openai.AsyncOpenAI(base_url=f"{model_url}/v1", api_key="sk-test") as model,
            httpx.AsyncClient() as http,
        ):
            answer = await model.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"weather in {city}"}],
            )
            await http.get(f"{tools_url}/tool/{city}")
            return answer.choices[0].message.content or ""

    return list(await asyncio.gather(ask("Paris"), ask("Lyon")))


def record_failing(path: Path, model_url: str, tools_url: str) -> None:
    try:
        with agentreplay.record(path):
            failing_agent(model_url, tools_url)
    except KeyError:
        return
    raise AssertionError("the failing agent did not fail")


def record_concurrent(path: Path, model_url: str, tools_url: str) -> None:
    with agentreplay.record(path):
        assert asyncio.run(concurrent_agent(model_url, tools_url)) == [
            "Sunny in Paris",
            "Sunny in Lyon",
        ]


FIXED_HEADER = {
    "run_id": "5eed0000c0ffee00decade0000000001",
    "created": "2026-01-02T03:04:05.000000+00:00",
    "created_ns": 1_767_323_045_000_000_000,
    "python": "3.11.7",
    "platform": "Linux",
    "argv": ["agent.py"],
    "cwd": "/work",
    "origin": {"host": "laptop", "user": "ada"},  # no mark: the copy is not replayed
}
_VARYING_HEADERS = re.compile(r"^(x-stainless-.*|user-agent|date|server)$", re.IGNORECASE)
_CREATED = re.compile(rb'("created(?:_at)?": ?)\d{10}')
STEP_NS = 7_000_000
"""The fixed time between two events of a deterministic copy."""


def record_answered(path: Path, model_url: str) -> None:
    """A run that went well: one question, one answer."""
    model = openai.OpenAI(base_url=f"{model_url}/v1", api_key="sk-test", max_retries=0)
    with agentreplay.record(path):
        model.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "weather in Oslo"}]
        )


def deterministic_copy(
    source: Path, target: Path, addresses: dict[str, str], **header: Any
) -> Path:
    """``source`` with what differs between two recordings fixed: the header's run id and
    times, each event's time (``STEP_NS`` apart), clock values and entropy bytes, the
    servers' ports (``addresses``), response timestamps and machine-specific headers."""
    with agentreplay.open(source) as cassette:
        header = {**cassette.header, **FIXED_HEADER, **header}
        events = list(cassette.events())
    writer = CassetteWriter(target, header, background=False)
    for index, event in enumerate(events):
        fixed: Any = replace(event, at=(index + 1) * STEP_NS)
        if isinstance(fixed, HttpRequest):
            url = fixed.url
            for real, shown in addresses.items():
                url = url.replace(real, shown)
            fixed = replace(fixed, url=url, headers=_headers(fixed.headers, addresses))
        elif isinstance(fixed, HttpResponse):
            fixed = replace(fixed, headers=_headers(fixed.headers, addresses))
        elif isinstance(fixed, HttpChunk):
            fixed = replace(fixed, data=_CREATED.sub(rb"\g<1>1767323045", fixed.data))
        elif isinstance(fixed, ClockRead):
            value = 1_767_323_045_000_000_000 + index if fixed.clock == "wall" else float(index)
            fixed = replace(fixed, value=value)
        elif isinstance(fixed, EntropyDraw):
            fixed = replace(fixed, data=bytes(range(len(fixed.data))))
        writer.append(fixed)
        if index % 10 == 9:  # frames of ten events, as a paced recording writes them
            writer.flush()
    writer.close()
    return target


def _headers(
    headers: tuple[tuple[str, str], ...], addresses: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    kept = []
    for name, value in headers:
        if _VARYING_HEADERS.match(name):
            continue
        for real, shown in addresses.items():
            value = value.replace(real.split("//")[-1], shown.split("//")[-1])
        kept.append((name, value))
    return tuple(kept)
