"""A support agent built with the OpenAI Agents SDK (``openai-agents``): the Responses API
and one function tool.

The model asks for ``lookup_order``, an async tool calling the order service
with httpx; the SDK runs it and sends the result back until the model
answers. The SDK's traces go to OpenAI from a thread of its own: they are no
step of the run (docs/integrations.md). Against the demo's servers
(``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key OPENAI_AGENTS_DISABLE_TRACING=1
    agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL -- \\
        python examples/openai_agents_agent.py "Where is my order A-1001?"
"""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
from agents import Agent, OpenAIResponsesModel, Runner, function_tool
from openai import AsyncOpenAI

import agentreplay


@function_tool
async def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    async with httpx.AsyncClient(base_url=os.environ["SUPPORT_TOOLS_URL"]) as tools:
        return (await tools.get("/lookup_order", params={"order_id": order_id})).text


def build_agent(client: AsyncOpenAI) -> Agent:
    return Agent(
        name="support",
        instructions="You are a support agent. Look orders up before answering.",
        tools=[lookup_order],
        model=OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client),
    )


async def ask(question: str, stream: bool) -> str:
    async with AsyncOpenAI(max_retries=1) as client:
        agent = build_agent(client)
        if not stream:
            return str((await Runner.run(agent, question)).final_output)
        streamed = Runner.run_streamed(agent, question)
        async for _ in streamed.stream_events():
            pass
        return str(streamed.final_output)


@agentreplay.entrypoint
def main(question: str, stream: bool = False) -> str:
    return asyncio.run(ask(question, stream))


if __name__ == "__main__":
    words = [word for word in sys.argv[1:] if word != "--stream"]
    print(main(" ".join(words) or "Where is my order A-1001?", "--stream" in sys.argv))
