"""LangGraph fan-out: three branches in one superstep, each asking the model its own
question from LangGraph's thread pool (sync) or its own asyncio task (async)."""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import httpx
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph

from agentreplay.demo.model_server import ModelServer
from tests.order.conftest import record_and_replay

TOPICS = ("hotels", "flights", "restaurants")


class Trip(TypedDict):
    city: str
    notes: Annotated[list[str], operator.add]


def _graph(url: str, client: httpx.Client | httpx.AsyncClient) -> Any:
    """The fan-out graph on a model that uses ``client``, which the caller closes:
    langchain-openai's default clients are cached for the process and never closed."""
    asynchronous = isinstance(client, httpx.AsyncClient)
    model = ChatOpenAI(
        model="gpt-test",
        base_url=url,
        api_key="sk-test",  # type: ignore[arg-type]
        max_retries=0,
        http_client=None if asynchronous else client,
        http_async_client=client if asynchronous else None,
    )
    graph = StateGraph(Trip)
    for topic in TOPICS:

        def research(state: Trip, topic: str = topic) -> dict[str, list[str]]:
            answer = model.invoke(f"Research {topic} for a trip to {state['city']}")
            return {"notes": [f"{topic}: {answer.content}"]}

        async def aresearch(state: Trip, topic: str = topic) -> dict[str, list[str]]:
            answer = await model.ainvoke(f"Research {topic} for a trip to {state['city']}")
            return {"notes": [f"{topic}: {answer.content}"]}

        graph.add_node(topic, aresearch if asynchronous else research)
        graph.add_edge(START, topic)
        graph.add_edge(topic, END)
    return graph.compile()


def _questions(model: ModelServer) -> list[str]:
    return sorted(str(request.body["messages"][0]["content"]) for request in model.requests)


def test_a_sync_fan_out_replays_each_branch_its_own_answer(
    model: ModelServer, cassette: Path
) -> None:
    url = f"{model.url}/v1"

    def trip() -> list[str]:
        with httpx.Client() as client:
            graph = _graph(url, client)
            return list(graph.invoke({"city": "Lisbon", "notes": []})["notes"])

    recorded, replays = record_and_replay(cassette, trip, model.stop)
    assert len(_questions(model)) == len(TOPICS)
    assert sorted(note.split(":")[0] for note in recorded) == sorted(TOPICS)
    assert replays == [recorded] * len(replays)


def test_an_async_fan_out_replays_each_branch_its_own_answer(
    model: ModelServer, cassette: Path
) -> None:
    url = f"{model.url}/v1"

    async def atrip() -> list[str]:
        async with httpx.AsyncClient() as client:
            graph = _graph(url, client)
            return list((await graph.ainvoke({"city": "Lisbon", "notes": []}))["notes"])

    def trip() -> list[str]:
        return asyncio.run(atrip())

    recorded, replays = record_and_replay(cassette, trip, model.stop)
    assert len(_questions(model)) == len(TOPICS)
    assert replays == [recorded] * len(replays)
