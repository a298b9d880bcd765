"""A support agent on LlamaIndex: a ``FunctionAgent`` workflow with one tool.

The model is reached through LlamaIndex's LiteLLM integration
(``llama-index-llms-litellm``), which does not pin the openai SDK: LiteLLM
calls the model through the openai SDK. The ``lookup_order`` tool is an async
function (httpx). The agent streams the model's answers unless told not to;
the integration does not ask for token counts in a stream (and fails on the
chunk that carries them if asked), so streamed calls have none.
LiteLLM fetches its price table from the internet at import unless
``LITELLM_LOCAL_MODEL_COST_MAP=True``. Against the demo's servers
(``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key LITELLM_LOCAL_MODEL_COST_MAP=True
    agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL -- \\
        python examples/llamaindex_agent.py "Where is my order A-1001?"
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import httpx
from llama_index.core.agent.workflow import AgentOutput, FunctionAgent, ToolCallResult
from llama_index.llms.litellm import LiteLLM

import agentreplay


async def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    async with httpx.AsyncClient(base_url=os.environ["SUPPORT_TOOLS_URL"]) as client:
        answer = await client.get("/lookup_order", params={"order_id": order_id}, timeout=10)
        return answer.text


def agent(stream: bool) -> FunctionAgent:
    model = LiteLLM(
        model="openai/gpt-4o-mini",
        api_base=os.environ["OPENAI_BASE_URL"],
        api_key=os.environ["OPENAI_API_KEY"],
        max_retries=0,
    )
    return FunctionAgent(
        tools=[lookup_order],
        llm=model,
        system_prompt="You are a support agent. Look orders up first.",
        streaming=stream,
    )


async def ask(question: str, stream: bool = True) -> dict[str, Any]:
    """The agent's answer, with every tool result it saw on the way."""
    handler = agent(stream).run(user_msg=question)
    tool_results = [
        str(event.tool_output.content)
        async for event in handler.stream_events()
        if isinstance(event, ToolCallResult)
    ]
    answer: AgentOutput = await handler
    return {"answer": str(answer.response.content), "tool_results": tool_results}


@agentreplay.entrypoint
def main(question: str, stream: bool = True) -> str:
    return str(asyncio.run(ask(question, stream))["answer"])


if __name__ == "__main__":
    words = [word for word in sys.argv[1:] if word != "--no-stream"]
    print(main(" ".join(words) or "Where is my order A-1001?", "--no-stream" not in sys.argv))
