"""One recorded HTTP exchange in, one `LLMCall` out (or None if it is not one).

The API is recognised by the request's method and path, never by its host,
so that any OpenAI-compatible server is understood (under any path prefix:
``/v1``, ``/api/v1``, ``/openai/v1``...); the host only decides whether an
OpenAI-shaped call is labelled ``openai`` or ``openai-compatible``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import agentreplay.llm.bedrock as bedrock
import agentreplay.llm.chat as chat
import agentreplay.llm.gemini as gemini
import agentreplay.llm.messages as messages
import agentreplay.llm.responses as responses
from agentreplay.cassette.events import Headers, HttpChunk, HttpRequest, HttpResponse
from agentreplay.llm.eventstream import parse_eventstream
from agentreplay.llm.model import LLMCall, Output, Request
from agentreplay.llm.wire import (
    Piece,
    SseEvent,
    as_dict,
    as_str,
    body_pieces,
    header,
    load_json,
    parse_sse,
)

__all__ = ["decode_exchange", "decode_exchange_strict", "detect_api"]

_ERROR_TEXT_LIMIT = 500


class _Api(NamedTuple):
    read_request: Callable[[dict[str, Any], str], Request | None]
    read_body: Callable[[Any, Output], None]
    read_event: Callable[[SseEvent, Output], None]
    parse_stream: Callable[[list[Piece]], list[SseEvent]] = parse_sse
    array_stream: bool = False  # may stream as one JSON array (Gemini without alt=sse)


def _body_only(read: Callable[[dict[str, Any]], Request | None]) -> Any:
    """A request reader that needs no path: the API's body names the model."""
    return lambda body, path: read(body)


_APIS = {
    "chat.completions": _Api(_body_only(chat.read_request), chat.read_body, chat.read_event),
    "responses": _Api(
        _body_only(responses.read_request), responses.read_body, responses.read_event
    ),
    "messages": _Api(_body_only(messages.read_request), messages.read_body, messages.read_event),
    "generateContent": _Api(
        gemini.read_request, gemini.read_body, gemini.read_event, array_stream=True
    ),
    "converse": _Api(
        bedrock.read_request, bedrock.read_body, bedrock.read_event, parse_eventstream
    ),
}
_PATHS = (
    ("/chat/completions", "chat.completions"),
    ("/responses", "responses"),
    ("/messages", "messages"),
)
_PROVIDERS = {"messages": "anthropic", "generateContent": "google", "converse": "bedrock"}


def detect_api(method: str, url: str) -> str | None:
    """The API a request with this method and URL calls, if it is one we decode:
    ``"chat.completions"``, ``"responses"``, ``"messages"`` (Anthropic),
    ``"generateContent"`` (Gemini) or ``"converse"`` (Bedrock); else None."""
    if method.upper() != "POST":
        return None
    try:
        path = urlsplit(url).path.rstrip("/")
    except ValueError:
        return None
    for suffix, api in _PATHS:
        if path.endswith(suffix):
            return api
    if gemini.PATH.search(path):
        return "generateContent"
    if bedrock.PATH.search(path):
        return "converse"
    return None


def decode_exchange(
    request: HttpRequest,
    response: HttpResponse | None,
    chunks: Sequence[HttpChunk],
    end_at: int | None,
) -> LLMCall | None:
    """The LLM call this exchange made, or None if it is not one we recognise.

    ``chunks`` are the response body chunks in order; ``end_at`` is when the
    exchange ended (its HttpEnd or HttpError), if it did. The request body
    decides: a body that is not a request of the API its path names gives
    None. What the response lacks (a body cut short, an encoding that cannot
    be undone here) is left empty rather than refused. Never raises.
    """
    try:
        return decode_exchange_strict(request, response, chunks, end_at)
    except Exception:
        # A viewer must not fall over on a body nobody foresaw; the property
        # tests run decode_exchange_strict, so that such bodies still get found.
        return None


def decode_exchange_strict(
    request: HttpRequest,
    response: HttpResponse | None,
    chunks: Sequence[HttpChunk],
    end_at: int | None,
) -> LLMCall | None:
    """`decode_exchange`, without the guard that turns an unforeseen bug into None."""
    api = detect_api(request.method, request.url)
    if api is None or not request.body:
        return None
    body = load_json(request.body)
    if not isinstance(body, dict):
        return None
    reader = _APIS[api]
    sent = reader.read_request(body, urlsplit(request.url).path.rstrip("/"))
    if sent is None:
        return None
    headers: Headers = response.headers if response is not None else ()
    streamed = _is_event_stream(headers, sent.stream)
    out = _read_answer(reader, response, chunks, streamed)
    start = request.at
    last = end_at
    if last is None:
        last = chunks[-1].at if chunks else (response.at if response is not None else None)
    return LLMCall(
        provider=_provider(api, request.url),
        api=api,
        model=sent.model or out.response_model or "",
        response_model=out.response_model,
        messages=sent.messages,
        tools=sent.tools,
        params=sent.params,
        stream=sent.stream or streamed,
        output_text="".join(out.text),
        thinking="".join(out.thinking),
        tool_calls=out.tool_calls(),
        finish_reason=out.finish_reason,
        input_tokens=out.input_tokens,
        output_tokens=out.output_tokens,
        cached_tokens=out.cached_tokens,
        ttft=None if out.first_output_at is None else (out.first_output_at - start) / 1e9,
        duration=None if last is None else (last - start) / 1e9,
        gaps=[(later.at - earlier.at) / 1e9 for earlier, later in pairwise(chunks)],
        status=response.status if response is not None else None,
        error=out.error,
    )


def _read_answer(
    api: _Api, response: HttpResponse | None, chunks: Sequence[HttpChunk], streamed: bool
) -> Output:
    out = Output()
    pieces = body_pieces(response.headers, chunks) if response is not None else None
    if response is None or pieces is None:
        return out
    if response.status >= 400:
        out.error = _error_message(b"".join(data for _, data in pieces))
    elif streamed:
        for event in api.parse_stream(pieces):
            api.read_event(event, out)
    else:
        answer = load_json(b"".join(data for _, data in pieces))
        if isinstance(answer, dict) or (api.array_stream and isinstance(answer, list)):
            api.read_body(answer, out)
            out.produced(chunks[0].at)
    return out


def _provider(api: str, url: str) -> str:
    if api in _PROVIDERS:
        return _PROVIDERS[api]
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        host = ""
    if host == "api.openai.com" or host.endswith(".openai.azure.com"):
        return "openai"
    return "openai-compatible"


def _is_event_stream(headers: Headers, asked: bool) -> bool:
    content_type = header(headers, "content-type").lower()
    if "event-stream" in content_type or "eventstream" in content_type:
        return True
    if "json" in content_type:
        return False
    return asked


def _error_message(body: bytes) -> str | None:
    """The message of an error body as OpenAI, Anthropic and most compatible servers
    shape it, or the body itself when it is short plain text."""
    data = load_json(body)
    if isinstance(data, dict):
        error = data.get("error")
        found = as_str(as_dict(error).get("message")) or as_str(error)
        return found or as_str(data.get("message")) or as_str(data.get("detail")) or None
    text = body.decode("utf-8", errors="replace").strip()
    if not text or data is not None or text.startswith("<"):
        return None
    return text[:_ERROR_TEXT_LIMIT]
