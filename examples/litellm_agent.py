"""A support agent on LiteLLM: one ``completion`` call per turn, whichever provider.

LiteLLM speaks to OpenAI (``openai/...``) or Anthropic (``anthropic/...``)
through its own cached clients; the agent runs the ``lookup_order`` tool
(requests) itself and loops until the model answers. LiteLLM fetches its
price table from the internet at import unless ``LITELLM_LOCAL_MODEL_COST_MAP=True``.
Against the demo's servers (``agentreplay demo --serve``)::

    export OPENAI_BASE_URL=http://127.0.0.1:8000/v1 SUPPORT_TOOLS_URL=http://127.0.0.1:8001
    export OPENAI_API_KEY=sk-demo-not-a-real-key LITELLM_LOCAL_MODEL_COST_MAP=True
    agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL -- \\
        python examples/litellm_agent.py "Where is my order A-1001?"
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import litellm
import requests

import agentreplay

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Find an order by its id.",
            "parameters": {
                "type": "object",
                "required": ["order_id"],
                "properties": {"order_id": {"type": "string"}},
            },
        },
    }
]
MODELS = {
    "openai": ("openai/gpt-4o-mini", "OPENAI_BASE_URL", "OPENAI_API_KEY"),
    "anthropic": ("anthropic/claude-haiku-4-5", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
}


def lookup_order(order_id: str) -> str:
    url = f"{os.environ['SUPPORT_TOOLS_URL']}/lookup_order"
    return requests.get(url, params={"order_id": order_id}, timeout=10).text


def complete(provider: str, messages: list[Any], stream: bool) -> Any:
    model, base_url, key = MODELS[provider]
    options: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "tools": TOOLS,
        "api_base": os.environ[base_url],
        "api_key": os.environ[key],
        "max_tokens": 512,
        "num_retries": 0,
    }
    if not stream:
        return litellm.completion(**options)
    chunks = list(
        litellm.completion(**options, stream=True, stream_options={"include_usage": True})
    )
    return litellm.stream_chunk_builder(chunks, messages=messages)


def conversation(question: str, provider: str = "openai", stream: bool = False) -> list[Any]:
    """Every message of the conversation, the model's answer last."""
    messages: list[Any] = [
        {"role": "system", "content": "You are a support agent. Look orders up first."},
        {"role": "user", "content": question},
    ]
    for _ in range(4):
        message = complete(provider, messages, stream).choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            break
        for call in message.tool_calls:
            arguments = json.loads(call.function.arguments or "{}")
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": lookup_order(**arguments)}
            )
    return messages


@agentreplay.entrypoint
def main(question: str, provider: str = "openai", stream: bool = False) -> str:
    return str(conversation(question, provider, stream)[-1]["content"])


if __name__ == "__main__":
    words = [word for word in sys.argv[1:] if not word.startswith("--")]
    provider = "anthropic" if "--anthropic" in sys.argv else "openai"
    print(main(" ".join(words) or "Where is my order A-1001?", provider, "--stream" in sys.argv))
