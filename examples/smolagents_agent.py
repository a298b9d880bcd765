"""A support agent built with smolagents: a tool-calling agent on an OpenAI-compatible
server, with one HTTP tool.

The model calls ``lookup_order`` (requests), then ``final_answer``.
smolagents times every step and counts tokens in its memory: the replay
gives the same memory back. Against the demo's servers (``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key
    agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL -- \\
        python examples/smolagents_agent.py "Where is my order A-1001?"
"""

from __future__ import annotations

import os
import sys

import requests
from smolagents import OpenAIModel, ToolCallingAgent, tool

import agentreplay


@tool  # type: ignore[untyped-decorator]
def lookup_order(order_id: str) -> str:
    """Find an order by its id.

    Args:
        order_id: The order's id, such as A-1001.
    """
    url = f"{os.environ['SUPPORT_TOOLS_URL']}/lookup_order"
    return requests.get(url, params={"order_id": order_id}, timeout=10).text


def build_agent(stream: bool = False) -> ToolCallingAgent:
    model = OpenAIModel(
        model_id="gpt-4o-mini",
        api_base=os.environ["OPENAI_BASE_URL"],
        api_key=os.environ["OPENAI_API_KEY"],
    )
    return ToolCallingAgent(
        tools=[lookup_order], model=model, max_steps=4, stream_outputs=stream, verbosity_level=0
    )


@agentreplay.entrypoint
def main(question: str, stream: bool = False) -> str:
    return str(build_agent(stream).run(question))


if __name__ == "__main__":
    words = [word for word in sys.argv[1:] if word != "--stream"]
    print(main(" ".join(words) or "Where is my order A-1001?", "--stream" in sys.argv))
