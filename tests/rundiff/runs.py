"""Real runs to diff: a support agent on the openai or anthropic SDK, recorded against
the local model server and the demo's order server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall

import agentreplay
from agentreplay.demo.model_server import ModelRequest, ModelServer, Reply, ToolCallSpec
from agentreplay.demo.tool_server import ToolServer

SYSTEM = "You are a helpful support agent for a coffee shop."
QUESTION = "Where is my order A-1001?"
TOOLS = {
    "lookup_order": "Find an order by its id.",
    "shipping_status": "Where a shipped order is now.",
}


def _has_tool_results(request: ModelRequest) -> bool:
    for message in request.body.get("messages", []):
        if message.get("role") == "tool":
            return True
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(block, dict) and block.get("type") == "tool_result" for block in content
        ):
            return True
    return False


@dataclass
class Scripted:
    """The model calls ``tools`` (names) for order A-1001, then answers ``answer``."""

    tools: list[str] = field(default_factory=lambda: ["lookup_order"])
    answer: str = "Order A-1001 has shipped."

    def __call__(self, request: ModelRequest) -> Reply:
        if not _has_tool_results(request):
            return Reply(
                tool_calls=[ToolCallSpec(name, {"order_id": "A-1001"}) for name in self.tools]
            )
        return Reply(text=self.answer)


@dataclass
class Servers:
    model: ModelServer
    tools: ToolServer
    script: Scripted


@pytest.fixture
def servers() -> Iterator[Servers]:
    script = Scripted()
    model = ModelServer(script).start()
    tools = ToolServer().start()
    try:
        yield Servers(model, tools, script)
    finally:
        model.stop()
        tools.stop()


@agentreplay.tool
def open_ticket(order: str) -> dict[str, str]:
    return {"ticket": f"T-{order}", "queue": "shipping"}


def _call_tool(tools: httpx.Client, name: str, arguments: dict[str, Any]) -> str:
    return tools.get(f"/{name}", params=arguments).text


def openai_agent(servers: Servers, system: str = SYSTEM) -> str:
    tools: list[Any] = [
        {
            "type": "function",
            "function": {"name": name, "description": text, "parameters": {"type": "object"}},
        }
        for name, text in TOOLS.items()
    ]
    messages: list[Any] = [
        {"role": "system", "content": system},
        {"role": "user", "content": QUESTION},
    ]
    with (
        openai.OpenAI(
            base_url=f"{servers.model.url}/v1", api_key="sk-test", max_retries=0
        ) as client,
        httpx.Client(base_url=servers.tools.url) as http,
    ):
        for _ in range(4):
            answer = client.chat.completions.create(
                model="support-1", messages=messages, tools=tools, temperature=0.2
            )
            message = answer.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                open_ticket("A-1001")
                return message.content or ""
            for call in message.tool_calls:
                assert isinstance(call, ChatCompletionMessageFunctionToolCall)
                result = _call_tool(http, call.function.name, json.loads(call.function.arguments))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise AssertionError("the model never answered")


def anthropic_agent(servers: Servers, system: str = SYSTEM) -> str:
    tools: list[Any] = [
        {"name": name, "description": text, "input_schema": {"type": "object"}}
        for name, text in TOOLS.items()
    ]
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    with (
        anthropic.Anthropic(
            base_url=servers.model.url, api_key="sk-ant-test", max_retries=0
        ) as client,
        httpx.Client(base_url=servers.tools.url) as http,
    ):
        for _ in range(4):
            answer = client.messages.create(
                model="claude-support",
                system=system,
                messages=messages,
                tools=tools,
                max_tokens=300,
            )
            messages.append(
                {"role": "assistant", "content": [b.model_dump() for b in answer.content]}
            )
            calls = [block for block in answer.content if block.type == "tool_use"]
            if not calls:
                open_ticket("A-1001")
                return "".join(block.text for block in answer.content if block.type == "text")
            results = [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": _call_tool(http, call.name, dict(call.input)),
                }
                for call in calls
            ]
            messages.append({"role": "user", "content": results})
    raise AssertionError("the model never answered")


AGENTS = {"openai": openai_agent, "anthropic": anthropic_agent}


def record_run(path: Path, servers: Servers, sdk: str = "openai", **options: Any) -> Path:
    with agentreplay.record(path):
        AGENTS[sdk](servers, **options)
    return path
