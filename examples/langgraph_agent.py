"""A support agent built with LangGraph: a chat model (OpenAI or Anthropic, through
langchain-openai or langchain-anthropic) in a loop with a tool node.

The model asks for ``lookup_order``, a tool that calls the order service over
HTTP with requests; LangGraph runs the tool node and hands the result back
until the model answers. Against the demo's servers (``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key
    agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL -- \\
        python examples/langgraph_agent.py "Where is my order A-1001?"

With ``--anthropic`` it asks an Anthropic model (``ANTHROPIC_BASE_URL``,
``ANTHROPIC_API_KEY``); with ``--stream`` the model's answers are streamed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import requests
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage, SystemMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

import agentreplay


@tool
def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    answer = requests.get(
        f"{os.environ['SUPPORT_TOOLS_URL']}/lookup_order", params={"order_id": order_id}, timeout=10
    )
    return answer.text


def chat_model(provider: str, stream: bool) -> BaseChatModel:
    if provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        return ChatAnthropic(  # type: ignore[call-arg]
            model_name="claude-haiku-4-5",
            base_url=os.environ["ANTHROPIC_BASE_URL"],
            max_tokens=512,
            streaming=stream,
            max_retries=1,
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model="gpt-4o-mini",
        base_url=os.environ["OPENAI_BASE_URL"],
        streaming=stream,
        stream_usage=True,
        max_retries=1,
    )


def build_graph(provider: str = "openai", stream: bool = False) -> Any:
    model = chat_model(provider, stream).bind_tools([lookup_order])

    def agent(state: MessagesState) -> dict[str, list[AnyMessage]]:
        system = SystemMessage("You are a support agent. Look orders up before answering.")
        return {"messages": [model.invoke([system, *state["messages"]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([lookup_order]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    graph.add_edge("agent", END)
    return graph.compile()


@agentreplay.entrypoint
def main(question: str, provider: str = "openai", stream: bool = False) -> str:
    state = build_graph(provider, stream).invoke({"messages": [("user", question)]})
    return str(state["messages"][-1].text)


if __name__ == "__main__":
    words = [word for word in sys.argv[1:] if not word.startswith("--")]
    print(
        main(
            " ".join(words) or "Where is my order A-1001?",
            provider="anthropic" if "--anthropic" in sys.argv else "openai",
            stream="--stream" in sys.argv,
        )
    )
