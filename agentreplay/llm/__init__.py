"""Provider HTTP traffic decoded into LLM calls: the llm/ stage of the pipeline.

`decode_exchange` reads one recorded exchange (request, response head, body
chunks, end) of the OpenAI Chat Completions, OpenAI Responses, Anthropic
Messages, Google Gemini generateContent or Amazon Bedrock Converse API, from
those providers or any server speaking their formats, into an `LLMCall`:
model, messages sent, tools offered, output, tool calls, usage and timing.
One module per API (`chat`, `responses`, `messages`, `gemini`, `bedrock`);
`wire` undoes content encodings and parses server-sent events, `eventstream`
reads AWS event-stream framing.
"""

from __future__ import annotations

from agentreplay.llm.decode import decode_exchange, detect_api
from agentreplay.llm.model import LLMCall, ToolCallInfo, content_text

__all__ = ["LLMCall", "ToolCallInfo", "content_text", "decode_exchange", "detect_api"]
