"""What-if: replace one step's recorded response with another.

For an LLM step the replacement is an assistant answer (text and/or tool
calls), re-encoded the way the provider would have sent it, as a stream of
events if the request asked for one. Accepted shapes::

    "plain text"
    {"content": "text", "tool_calls": [{"name": "search", "arguments": {"q": "x"}}]}
    {"tool_calls": [{"function": {"name": "search", "arguments": "{\\"q\\": \\"x\\"}"}}]}
    {"content": [{"type": "text", "text": "..."}, {"type": "tool_use", "name": "...",
                  "input": {...}}]}

For any other HTTP step it is ``{"status": 200, "headers": {...}, "body": ...}``
(a body that is not a string is sent as JSON; headers given replace the
recorded ones, and without them the recorded ones stay, but for those the
body decides: its type and length). For a tool step it is the value the tool
returns.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from agentreplay.cassette.events import HttpChunk, HttpEnd, HttpResponse
from agentreplay.cassette.tracking import StepInfo
from agentreplay.cassette.values import check_plain
from agentreplay.errors import RecordingError, UsageError
from agentreplay.llm.encode import Reply, ToolCallSpec, api_of, model_request, render
from agentreplay.runtime.contract import RecordedExchange
from agentreplay.steps import Step

__all__ = ["check_override", "override_exchange", "recorded_answer", "reply_from"]

_DROP = {"content-length", "content-encoding", "transfer-encoding", "content-type"}


def _tool_call(data: Any) -> ToolCallSpec:
    if not isinstance(data, dict):
        raise UsageError(f"a tool call must be an object, not {data!r}")
    function = data.get("function", data)
    if not isinstance(function, dict):
        raise UsageError(f"a tool call's function must be an object: {data!r}")
    name = function.get("name")
    arguments = function.get("arguments", function.get("input", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError as exc:
            raise UsageError(f"tool call arguments are not JSON: {arguments!r}") from exc
    if not isinstance(name, str) or not isinstance(arguments, dict):
        raise UsageError(f"a tool call needs a name and object arguments: {data!r}")
    return ToolCallSpec(name, arguments, data.get("id"))


def reply_from(value: Any) -> Reply:
    """An assistant answer in any of the accepted shapes, as a `Reply`."""
    if isinstance(value, str):
        return Reply(text=value)
    if not isinstance(value, dict):
        raise UsageError(f"an LLM override must be text or an object, not {value!r}")
    content = value.get("content", value.get("text", ""))
    tool_calls = value.get("tool_calls") or []
    if not isinstance(tool_calls, list):
        raise UsageError(f"tool_calls must be a list of tool calls, not {tool_calls!r}")
    if not isinstance(content, (str, list)) and content is not None:
        raise UsageError(f"content must be text or a list of blocks, not {content!r}")
    calls = [_tool_call(call) for call in tool_calls]
    text = content if isinstance(content, str) else ""
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                text += str(block.get("text", ""))
            elif isinstance(block, dict) and block.get("type") == "tool_use":
                calls.append(_tool_call(block))
    return Reply(text=text or "", tool_calls=calls, finish_reason=value.get("finish_reason"))


def _http_body(value: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    status = value.get("status", 200)
    if type(status) is not int or not 100 <= status <= 599:
        raise UsageError(f"an HTTP override's status must be a number in 100..599: {status!r}")
    raw_headers = value.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise UsageError(f"an HTTP override's headers must be an object: {raw_headers!r}")
    body = value.get("body", "")
    try:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    except (TypeError, ValueError) as exc:
        raise UsageError(f"an HTTP override's body cannot be sent: {exc}") from None
    content_type = "text/plain" if isinstance(body, str) else "application/json"
    headers = [(str(k), str(v)) for k, v in raw_headers.items()]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", content_type))
    return status, headers, data


_LLM_KEYS = frozenset({"role", "content", "text", "tool_calls", "finish_reason"})
_HTTP_KEYS = frozenset({"status", "headers", "body"})


def _known_keys(value: Any, known: frozenset[str], what: str) -> None:
    unknown = sorted(set(value) - known) if isinstance(value, dict) else []
    if unknown:
        raise UsageError(
            f"{what} has no {', '.join(map(repr, unknown))}; it takes {', '.join(sorted(known))}"
        )


def check_override(info: StepInfo, value: Any, label: str = "") -> None:
    """Raise `UsageError` now, before the run starts, if ``value`` cannot replace the
    response of step ``info`` (see the module docstring for the shapes). ``label``
    names the option in the message (``--override 3``)."""
    try:
        if info.kind == "tool":
            check_plain(value, f"the value for tool step {info.number}")
        elif info.kind != "http":
            raise UsageError(f"step {info.number} is a {info.kind}, which has no response")
        else:
            method, _, url = info.name.partition(" ")
            if api_of(method.upper(), urlsplit(url).path) is not None and not (
                isinstance(value, dict) and "status" in value
            ):
                _known_keys(value, _LLM_KEYS, "an LLM answer")
                reply_from(value)
            elif isinstance(value, dict):
                _known_keys(value, _HTTP_KEYS, "an HTTP response")
                _http_body(value)
            else:
                raise UsageError("an HTTP override must be an object with status, headers and body")
    except (UsageError, RecordingError) as exc:
        raise UsageError(f"{label or f'override of step {info.number}'}: {exc}") from None


def override_exchange(exchange: RecordedExchange, value: Any) -> RecordedExchange:
    """The exchange with its response replaced by ``value`` (see the module docstring)."""
    request = exchange.request
    path = urlsplit(request.url).path
    api = api_of(request.method.upper(), path)
    kept = [
        (k, v)
        for k, v in (exchange.response.headers if exchange.response else ())
        if k.lower() not in _DROP
    ]
    if api is not None and not (isinstance(value, dict) and "status" in value):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        sent = model_request(request.method, path, {}, body if isinstance(body, dict) else {})
        assert sent is not None
        content_type, chunks = render(sent, reply_from(value))
        status, headers = 200, [*kept, ("content-type", content_type)]
    elif isinstance(value, dict):
        # Headers given are the response's; without them, the recorded ones stay.
        status, given, data = _http_body(value)
        headers, chunks = [*given] if "headers" in value else [*kept, *given], [data]
    else:
        raise UsageError("an HTTP override must be an object with status, headers and body")
    if len(chunks) == 1:
        headers.append(("content-length", str(len(chunks[0]))))
    head = exchange.response or exchange.request
    seq = head.seq + 1
    response = HttpResponse(
        request.task,
        seq,
        head.at,
        request.seq,
        status,
        tuple(headers),
        "HTTP/1.1",
        "OK" if status < 400 else "Error",
    )
    events = [
        HttpChunk(request.task, seq + i + 1, head.at, request.seq, chunk)
        for i, chunk in enumerate(chunks)
    ]
    end = HttpEnd(request.task, seq + len(chunks) + 1, head.at, request.seq, True)
    return RecordedExchange(
        request, exchange.step, response, events, end, None, position=exchange.position
    )


def recorded_answer(step: Step) -> Any:
    """Step ``step``'s recorded response in the shape an override takes, to edit into a
    what-if: the answer of an LLM step, ``{status, headers, body}`` of another HTTP step,
    the value a tool step returned. Needs the step built by `step_from_events`."""
    if step.kind == "tool":
        return step.value
    if step.llm is not None:
        answer: dict[str, Any] = {"content": step.llm.output_text}
        if step.llm.tool_calls:
            answer["tool_calls"] = [
                {
                    "id": call.id,
                    "name": call.name,
                    "arguments": call.parsed if isinstance(call.parsed, dict) else call.arguments,
                }
                for call in step.llm.tool_calls
            ]
        return answer
    if step.kind == "http" and step.response_headers is not None:
        text = (step.response_body or b"").decode("utf-8", "replace")
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        headers = {k: v for k, v in step.response_headers if k.lower() not in _DROP}
        return {"status": step.http_status or 200, "headers": headers, "body": body}
    raise UsageError(f"step {step.number} is a {step.kind} with no recorded response to change")
