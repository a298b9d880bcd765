"""A support agent whose tool is an MCP server: the OpenAI SDK for the model, the ``mcp``
client SDK for the tools.

The agent lists the server's tools, offers them to the model, and calls the
one it asks for; what the server logs and its progress reports while it
works are kept as notes (on replay they come from the cassette too). The
server is ``examples/mcp_order_server.py``, started as a subprocess over
stdio, or reached over streamable HTTP when ``ORDERS_MCP_URL`` is set. Every
MCP request is a tool step of the run; on replay the stdio server is not
started at all. Against the demo's model server
(``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=sk-demo-not-a-real-key
    agentreplay record -o run.cassette --env OPENAI_BASE_URL -- \\
        python examples/mcp_agent.py "Where is my order A-1001?"
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
from mcp import ClientSession, StdioServerParameters, stdio_client, types
from mcp.client.streamable_http import streamable_http_client

import agentreplay

SERVER = Path(__file__).with_name("mcp_order_server.py")


@contextlib.asynccontextmanager
async def orders(notes: list[str]) -> AsyncIterator[ClientSession]:
    url = os.environ.get("ORDERS_MCP_URL")
    if url:
        transport: Any = streamable_http_client(url)
    else:
        transport = stdio_client(StdioServerParameters(command=sys.executable, args=[str(SERVER)]))

    async def log(params: types.LoggingMessageNotificationParams) -> None:
        notes.append(f"{params.level}: {params.data}")

    async def handle(message: Any) -> None:
        if isinstance(message, types.ProgressNotification):
            notes.append(f"progress {message.params.progress:g}/{message.params.total:g}")

    async with (
        transport as (read, write),
        ClientSession(read, write, logging_callback=log, message_handler=handle) as session,
    ):
        await session.initialize()
        yield session


async def ask(question: str, stream: bool = False, notes: list[str] | None = None) -> list[Any]:
    """Every message of the conversation, the model's answer last; ``notes`` gets what
    the tool server said while it worked."""
    notes = [] if notes is None else notes

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append(f"{message} ({progress:g} of {total or 0:g})")

    messages: list[Any] = [
        {"role": "system", "content": "You are a support agent. Look orders up first."},
        {"role": "user", "content": question},
    ]
    async with orders(notes) as tools, openai.AsyncOpenAI(max_retries=1) as model:
        offered: list[Any] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description or "",
                    "parameters": tool.input_schema,
                },
            }
            for tool in (await tools.list_tools()).tools
        ]
        for _ in range(4):
            if stream:
                async with model.chat.completions.stream(
                    model="gpt-4o-mini",
                    messages=messages,
                    tools=offered,
                    stream_options={"include_usage": True},
                ) as events:
                    message: Any = (await events.get_final_completion()).choices[0].message
            else:
                answer = await model.chat.completions.create(
                    model="gpt-4o-mini", messages=messages, tools=offered
                )
                message = answer.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                break
            for call in message.tool_calls:
                result = await tools.call_tool(
                    call.function.name,
                    json.loads(call.function.arguments or "{}"),
                    progress_callback=progress,
                )
                text = "".join(getattr(block, "text", "") for block in result.content)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    return messages


@agentreplay.entrypoint
def main(question: str, stream: bool = False) -> str:
    return str(asyncio.run(ask(question, stream))[-1]["content"])


if __name__ == "__main__":
    words = [word for word in sys.argv[1:] if word != "--stream"]
    print(main(" ".join(words) or "Where is my order A-1001?", "--stream" in sys.argv))
