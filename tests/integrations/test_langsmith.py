"""LangSmith's tracing of the agent's own code: requests made inside a ``@traceable``
function, or through a client ``wrap_openai`` wraps, are the agent's and are recorded;
the traces it sends are not."""

from __future__ import annotations

import warnings
from pathlib import Path

import httpx
import openai
from langsmith import traceable
from langsmith.run_trees import get_cached_client
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from tests.integrations.conftest import Servers, all_steps, record_and_replay
from tests.servers import ToolServer

with warnings.catch_warnings():  # the package imports a deprecated module of its own
    warnings.simplefilter("ignore", DeprecationWarning)
    from langsmith.wrappers import wrap_openai

QUESTION = "Where is my order A-1001?"


def test_the_agents_requests_inside_traceable_and_wrap_openai_are_recorded_and_traces_not(
    servers: Servers, cassette: Path, langsmith: ToolServer
) -> None:
    @traceable(name="lookup")
    def lookup(order: str) -> str:
        return httpx.get(f"{servers.tools.url}/lookup_order", params={"order_id": order}).text

    @traceable(name="support")
    def ask() -> list[str]:
        client = wrap_openai(openai.OpenAI(max_retries=0))
        first = client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": QUESTION}]
        )
        (call,) = first.choices[0].message.tool_calls or []
        assert isinstance(call, ChatCompletionMessageFunctionToolCall)
        found = lookup("A-1001")
        second = client.chat.completions.create(
            model="gpt-test",
            messages=[
                {"role": "user", "content": QUESTION},
                first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
                {"role": "tool", "tool_call_id": call.id, "content": found},
            ],
        )
        return [call.function.name, found, second.choices[0].message.content or ""]

    def run() -> list[str]:
        answer = ask()
        get_cached_client().flush()  # the traces go out now, from the agent's thread
        return answer

    recorded, replays = record_and_replay(cassette, run, servers)
    assert recorded[0] == "lookup_order"
    assert recorded[2] == "Order A-1001 is shipped."
    assert replays == [recorded] * len(replays)
    assert langsmith.count() > 0  # the traces really went out while recording
    urls = [step.url or "" for step in all_steps(cassette)]
    assert [url.rsplit("/", 1)[-1].split("?")[0] for url in urls] == [
        "completions",
        "lookup_order",
        "completions",
    ]
