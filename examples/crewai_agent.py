"""A support agent built with CrewAI: one agent with one HTTP tool, on an OpenAI-compatible
server.

CrewAI calls the model through its own OpenAI client (the SDK on httpx); the model
calls ``lookup_order``, then answers. CrewAI installs apart from the other
frameworks (it pins ``openai<3``): ``pip install crewai agentreplay``. Against the
demo's servers (``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key CREWAI_DISABLE_TELEMETRY=true
    agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL -- \\
        python examples/crewai_agent.py "Where is my order A-1001?"
"""

from __future__ import annotations

import os
import sys

import httpx
from crewai import LLM, Agent, Crew, CrewOutput, Task
from crewai.tools import tool

import agentreplay


@tool("lookup_order")  # type: ignore[untyped-decorator]
def lookup_order(order_id: str) -> str:
    """Find an order by its id, such as A-1001: its status and items."""
    url = f"{os.environ['SUPPORT_TOOLS_URL']}/lookup_order"
    return httpx.get(url, params={"order_id": order_id}, timeout=10).text


def build_crew(stream: bool = False) -> Crew:
    llm = LLM(
        model="openai/gpt-4o-mini",
        base_url=os.environ["OPENAI_BASE_URL"],
        api_key=os.environ["OPENAI_API_KEY"],
        stream=stream,
    )
    agent = Agent(
        role="Support agent",
        goal="Answer customers' questions about their orders",
        backstory="You look orders up before you answer.",
        tools=[lookup_order],
        llm=llm,
        max_iter=4,
        verbose=False,
    )
    task = Task(
        description="{question}",
        expected_output="One sentence on where the order is.",
        agent=agent,
    )
    return Crew(agents=[agent], tasks=[task], verbose=False)


def ask(question: str, stream: bool = False) -> CrewOutput:
    return build_crew(stream).kickoff(inputs={"question": question})


@agentreplay.entrypoint
def main(question: str, stream: bool = False) -> str:
    return str(ask(question, stream).raw)


if __name__ == "__main__":
    words = [word for word in sys.argv[1:] if word != "--stream"]
    print(main(" ".join(words) or "Where is my order A-1001?", "--stream" in sys.argv))
