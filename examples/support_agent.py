"""A customer-support agent: an OpenAI model that answers with the help of HTTP tools.

It streams the model's answers, calls the tools the model asks for (order
lookup, shipping status, refunds) over HTTP with httpx, stamps each ticket
with a uuid4 id and puts today's date in its prompt: everything that makes a
run impossible to repeat by hand. It also has a bug: when the model asks
about an order that does not exist, the tool answers an error, and the
agent looks up ``result["order"]`` anyway.

``agentreplay demo`` starts local servers for both and runs it until it
fails. To run it by hand, start the same servers with ``agentreplay demo
--serve`` (ports 8000 and 8001), then::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key
    python examples/support_agent.py "Where is my order A-1001?"

Record it with ``agentreplay record -o run.cassette --env OPENAI_BASE_URL --env
SUPPORT_TOOLS_URL -- python examples/support_agent.py "..."`` (``--env`` keeps
the addresses, so the replay asks for the same URLs), or with
``AGENTREPLAY_MODE=record AGENTREPLAY_ENV=OPENAI_BASE_URL,SUPPORT_TOOLS_URL``
thanks to ``@agentreplay.entrypoint``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import uuid
from typing import Any

import httpx
import openai

import agentreplay

MODEL = "support-model-1"
ORDER_IDS = ["A-1001", "A-1002", "A-1003", "B-2001"]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Find an order by its id.",
            "parameters": {
                "type": "object",
                "required": ["order_id"],
                "properties": {"order_id": {"type": "string", "enum": ORDER_IDS}},
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "shipping_status",
            "description": "Where a shipped order is now.",
            "parameters": {
                "type": "object",
                "required": ["order_id"],
                "properties": {"order_id": {"type": "string", "enum": ORDER_IDS}},
            },
        },
    },
]


def call_tool(tools: httpx.Client, name: str, arguments: dict[str, Any]) -> str:
    result = tools.get(f"/{name}", params=arguments).json()
    order = result["order"]  # the bug: an unknown order comes back as {"error": ...}
    return json.dumps({"order": order, **{k: v for k, v in result.items() if k != "order"}})


def ask(model: openai.OpenAI, messages: list[Any]) -> Any:
    with model.chat.completions.stream(
        model=MODEL,
        messages=messages,
        tools=TOOLS,
        temperature=0.7,
        stream_options={"include_usage": True},
    ) as stream:
        for event in stream:
            if event.type == "content.delta":
                print(event.delta, end="", flush=True)
        return stream.get_final_completion().choices[0].message


@agentreplay.entrypoint
def main(question: str) -> str:
    ticket = uuid.uuid4().hex[:8]
    today = dt.date.today().isoformat()
    messages: list[Any] = [
        {
            "role": "system",
            "content": f"You are a support agent. Today is {today}. "
            f"Ticket {ticket}. Use the tools to answer.",
        },
        {"role": "user", "content": question},
    ]
    model = openai.OpenAI(max_retries=1)
    with httpx.Client(base_url=os.environ["SUPPORT_TOOLS_URL"], timeout=10) as tools:
        for _ in range(4):
            message = ask(model, messages)
            if not message.tool_calls:
                print()
                return str(message.content)
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                arguments = json.loads(call.function.arguments or "{}")
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": call_tool(tools, call.function.name, arguments),
                    }
                )
    return "Sorry, I could not finish this ticket."


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "Where is my order?")
