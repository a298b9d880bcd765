"""What an encoded answer is made of: the request, the `Reply`, and the `Turn` joining them.

Every wire format in `encode`, `encode_google` and `encode_bedrock` writes a
`Turn`: a reply about to be sent for one request, with the ids, model name
and token counts it needs.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import agentreplay.llm.bedrock as bedrock
import agentreplay.llm.gemini as gemini

__all__ = [
    "Event",
    "ModelRequest",
    "Reply",
    "ToolCallSpec",
    "Turn",
    "arguments_json",
    "pieces",
    "signature",
    "word_pieces",
]

_RESPONSE_ID_PREFIX = {"chat": "chatcmpl-", "responses": "resp_", "messages": "msg_"}
_TOOL_ID_PREFIX = {"messages": "toolu_", "converse": "tooluse_"}

Event = tuple[str | None, dict[str, Any] | str]
"""One streamed event: its name (the SSE ``event:``, if any) and its data."""


@dataclass
class ToolCallSpec:
    """A tool call the fake model makes; ``id`` is generated when left ``None``."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass
class Reply:
    """What the fake model answers, whatever the wire format.

    ``thinking`` becomes an Anthropic thinking block, a Gemini thought part
    or Bedrock reasoning content; the OpenAI formats drop it.
    ``finish_reason`` is sent as the chat ``finish_reason``, the Anthropic or
    Bedrock ``stop_reason`` or the Gemini ``finishReason`` (Responses has no
    such field); left ``None`` it is ``tool_calls``/``tool_use`` when there
    are tool calls, else ``stop``/``end_turn`` (Gemini: ``STOP`` either way).
    Token counts left ``None`` are estimated from the sizes of the request
    and the reply.
    """

    text: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    thinking: str = ""
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0


@dataclass
class ModelRequest:
    """A model API request the server received; ``headers`` keys are lower case.

    ``api`` is ``chat``, ``responses``, ``messages``, ``generateContent``
    (Gemini) or ``converse`` (Bedrock).
    """

    api: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    stream: bool

    @property
    def model(self) -> str:
        """The model asked for: in the body, or in the path for Gemini and Bedrock."""
        path = urlsplit(self.path).path.rstrip("/")
        if self.api == "generateContent":
            return gemini.model_in(path)
        if self.api == "converse":
            return bedrock.model_in(path)
        return str(self.body.get("model", "fake-model"))


def tokens(text: str) -> int:
    return max(1, len(text) // 4)


def word_pieces(text: str) -> list[str]:
    """Split ``text`` into deltas of two or three words that join back to it exactly."""
    words = re.findall(r"\s*\S+|\s+$", text)
    found: list[str] = []
    sizes = itertools.cycle((2, 3))
    while words:
        size = next(sizes)
        found.append("".join(words[:size]))
        words = words[size:]
    return found


def pieces(text: str, count: int = 4) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def arguments_json(call: ToolCallSpec) -> str:
    return json.dumps(call.arguments)


def signature(thinking: str) -> str:
    """A stand-in for the signature providers put on thinking, stable for the same text."""
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()


def _given_or(value: int | None, default: int) -> int:
    return default if value is None else value


class Turn:
    """A reply about to be sent for a request, with the ids and counts it needs."""

    def __init__(self, request: ModelRequest, reply: Reply, new_id: Callable[[str], str]) -> None:
        self.request = request
        self.reply = reply
        self.new_id = new_id
        self.id = new_id(_RESPONSE_ID_PREFIX.get(request.api, "resp_"))
        prefix = _TOOL_ID_PREFIX.get(request.api, "call_")
        self.tool_ids = [call.id or new_id(prefix) for call in reply.tool_calls]
        self.model = request.model
        self.created = int(time.time())
        produced = reply.text + reply.thinking + "".join(map(arguments_json, reply.tool_calls))
        self.input_tokens = _given_or(reply.input_tokens, tokens(json.dumps(request.body)))
        self.output_tokens = _given_or(reply.output_tokens, tokens(produced))

    def calls(self) -> Iterator[tuple[int, str, ToolCallSpec]]:
        for index, id_ in enumerate(self.tool_ids):
            yield index, id_, self.reply.tool_calls[index]

    def finish_reason(self, with_tools: str, without: str) -> str:
        if self.reply.finish_reason is not None:
            return self.reply.finish_reason
        return with_tools if self.reply.tool_calls else without
