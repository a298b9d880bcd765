"""The agent the capture tests run: the real openai SDK against the local model server,
and a tool over httpx against the local tool server.

A question names a number n. The model first asks for the tool ``lookup(n)``; the
agent fetches ``/tool/n``; the model then answers. For every n divisible by
`FAIL_EVERY`, the model's answer is a refusal, and the agent raises `AgentFailed`:
those runs fail by the model's answer.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

import httpx
import openai

import agentreplay
from agentreplay.demo.model_server import ModelRequest, Reply, ToolCallSpec

FAIL_EVERY = 5
_DELAY = os.environ.get("TOOL_DELAY", "rand")  # the tool's answer time (rand: 5-80 ms)
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a number up.",
            "parameters": {
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "required": ["n"],
            },
        },
    }
]


class AgentFailed(Exception):
    """The model refused."""


def responder(request: ModelRequest) -> Reply:
    """The model: a tool call first, then an answer, or a refusal for every fifth n."""
    messages = request.body.get("messages", [])
    question = str(messages[0]["content"])
    n = int(question.rsplit(" ", 1)[-1])
    if not any(m.get("role") == "tool" for m in messages):
        return Reply(tool_calls=[ToolCallSpec("lookup", {"n": n}, id=f"call_{n}")])
    if n % FAIL_EVERY == 0:
        return Reply(text=f"I refuse to answer question {n}")
    return Reply(text=f"the answer to question {n}")


def _messages(question: str) -> Any:
    return [{"role": "user", "content": question}]


def _finish(question: str, first: Any, tool_body: str) -> Any:
    call = first.choices[0].message.tool_calls[0]
    return [
        *_messages(question),
        {"role": "assistant", "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": tool_body},
    ]


def _check(n: int, text: str) -> dict[str, Any]:
    if text.startswith("I refuse"):
        raise AgentFailed(text)
    # Entropy and the clock, drawn by each run: they must replay as recorded.
    return {"n": n, "answer": text, "pick": random.random(), "id": uuid.uuid4().hex}


def _urls() -> tuple[str, str]:
    return os.environ["MODEL_URL"] + "/v1", os.environ["TOOL_URL"]


async def ask_async(n: int, client: openai.AsyncOpenAI, http: httpx.AsyncClient) -> dict[str, Any]:
    question = f"what is question {n}"
    first: Any = await client.chat.completions.create(
        model="gpt-4o-mini", messages=_messages(question), tools=TOOLS
    )
    args = json.loads(first.choices[0].message.tool_calls[0].function.arguments)
    tool = await http.get(f"{_urls()[1]}/tool/{args['n']}?delay={_DELAY}")
    second: Any = await client.chat.completions.create(
        model="gpt-4o-mini", messages=_finish(question, first, tool.text), tools=TOOLS
    )
    return _check(n, second.choices[0].message.content or "")


def ask(n: int) -> dict[str, Any]:
    """The same agent, synchronous, with clients of its own."""
    model_url, tool_url = _urls()
    client = openai.OpenAI(base_url=model_url, api_key="sk-test", max_retries=0)
    question = f"what is question {n}"
    first: Any = client.chat.completions.create(
        model="gpt-4o-mini", messages=_messages(question), tools=TOOLS
    )
    args = json.loads(first.choices[0].message.tool_calls[0].function.arguments)
    tool = httpx.get(f"{tool_url}/tool/{args['n']}?delay={_DELAY}")
    second: Any = client.chat.completions.create(
        model="gpt-4o-mini", messages=_finish(question, first, tool.text), tools=TOOLS
    )
    return _check(n, second.choices[0].message.content or "")


def async_clients() -> tuple[openai.AsyncOpenAI, httpx.AsyncClient]:
    return (
        openai.AsyncOpenAI(base_url=_urls()[0], api_key="sk-test", max_retries=0),
        httpx.AsyncClient(),
    )


@agentreplay.entrypoint
def run_agent(n: int) -> dict[str, Any]:
    """The agent as a program's entrypoint: captured when AGENTREPLAY_CAPTURE is set."""
    return ask(n)
