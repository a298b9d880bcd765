"""A support agent built with pydantic-ai: an OpenAI chat model and one async HTTP tool.

The model looks the order up with ``lookup_order`` (httpx, async) and answers.
pydantic-ai names each run with a UUIDv7, reads the clock for every message
and runs the tool in its own asyncio task: all of it is recorded. Against the
demo's servers (``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key
    agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL -- \\
        python examples/pydantic_ai_agent.py "Where is my order A-1001?"
"""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
import httpx2
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

import agentreplay

MODEL = "gpt-4o-mini"


def build_agent(http: httpx2.AsyncClient) -> Agent[None, str]:
    provider = OpenAIProvider(
        base_url=os.environ["OPENAI_BASE_URL"],
        api_key=os.environ["OPENAI_API_KEY"],
        http_client=http,
    )
    agent = Agent(
        OpenAIChatModel(MODEL, provider=provider),
        instructions="You are a support agent. Look orders up before answering.",
    )

    @agent.tool_plain
    async def lookup_order(order_id: str) -> str:
        """Find an order by its id."""
        async with httpx.AsyncClient(base_url=os.environ["SUPPORT_TOOLS_URL"]) as tools:
            answer = await tools.get("/lookup_order", params={"order_id": order_id})
            return answer.text

    return agent


async def ask(question: str, stream: bool) -> str:
    async with httpx2.AsyncClient() as http:
        agent = build_agent(http)
        if stream:
            async with agent.run_stream(question) as streamed:
                return "".join([delta async for delta in streamed.stream_text(delta=True)])
        return (await agent.run(question)).output


@agentreplay.entrypoint
def main(question: str, stream: bool = False) -> str:
    return asyncio.run(ask(question, stream))


if __name__ == "__main__":
    print(main(" ".join(sys.argv[1:]) or "Where is my order A-1001?"))
