"""A small multi-turn, tool-using async agent run against the local servers, for step tests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import openai

import agentreplay
from agentreplay.demo.model_server import ModelServer, Reply, ToolCallSpec
from tests.servers import ToolServer


def scripted(request: Any) -> Reply:
    tool_results = [m for m in request.body["messages"] if m.get("role") == "tool"]
    if not tool_results:
        return Reply(
            tool_calls=[
                ToolCallSpec("weather", {"city": "Paris"}),
                ToolCallSpec("weather", {"city": "Lyon"}),
            ],
            input_tokens=120,
            output_tokens=30,
            cached_tokens=20,
        )
    return Reply(text="Paris is sunny and Lyon is rainy.", input_tokens=200, output_tokens=12)


@agentreplay.tool
def remember(note: str) -> str:
    return note.upper()


async def agent(model_url: str, tools_url: str) -> str:
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris and Lyon?"}]
    async with (
        openai.AsyncOpenAI(base_url=f"{model_url}/v1", api_key="sk-test") as model,
        httpx.AsyncClient() as http,
    ):
        first = await model.chat.completions.create(
            model="gpt-4o",
            messages=messages,
            tools=[
                {
                    "type": "function",
                    "function": {"name": "weather", "parameters": {"type": "object"}},
                }
            ],
        )
        calls = first.choices[0].message.tool_calls or []
        messages.append(first.choices[0].message.model_dump(exclude_none=True))

        async def run(call: Any) -> dict[str, Any]:
            city = json.loads(call.function.arguments)["city"]
            answer = (await http.get(f"{tools_url}/tool/{city}")).json()
            return {"role": "tool", "tool_call_id": call.id, "content": json.dumps(answer)}

        messages += await asyncio.gather(*(run(call) for call in calls))
        remember("two cities")
        async with agentreplay.step("answer"):
            stream = await model.chat.completions.create(
                model="gpt-4o",
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


def record_agent(path: Path) -> str:
    with ModelServer(scripted, chunk_delay=0.01) as model, ToolServer() as tools:
        return agentreplay.record(path)(lambda: asyncio.run(agent(model.url, tools.url)))()
