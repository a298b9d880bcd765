"""Google Gemini ``generateContent`` (``POST .../models/{model}:generateContent``).

The same API is spoken by the Gemini Developer API and Vertex AI; its
streamed form, ``:streamGenerateContent?alt=sse``, sends one whole (partial)
``GenerateContentResponse`` per server-sent event. The model is named in the
path, not the body. Contents are normalised to chat-style messages: role
``model`` becomes ``assistant``, ``functionCall`` parts become ``tool_calls``
and ``functionResponse`` parts become ``tool`` messages. The SDKs write
field names in camelCase or snake_case, so both are read.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from agentreplay.llm.model import Output, Request, tool
from agentreplay.llm.wire import SseEvent, as_count, as_dict, as_list, as_str, load_json

__all__ = ["PATH", "model_in", "read_body", "read_event", "read_request"]

PATH = re.compile(r"/(?:models|tunedModels)/([^/:]+):(generateContent|streamGenerateContent)$")
"""A generateContent path: group 1 is the model, group 2 the method."""


def _get(data: dict[str, Any], camel: str) -> Any:
    """``data[camel]``, or the same field in snake_case."""
    if camel in data:
        return data[camel]
    return data.get(re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower())


def model_in(path: str) -> str:
    """The model a generateContent path names, or ``""``."""
    match = PATH.search(path)
    return unquote(match.group(1)) if match else ""


def read_request(body: dict[str, Any], path: str) -> Request | None:
    contents = body.get("contents")
    if not isinstance(contents, list):
        return None
    messages: list[dict[str, Any]] = []
    system = as_dict(_get(body, "systemInstruction"))
    if system:
        messages.append({"role": "system", "content": _parts_content(as_list(system.get("parts")))})
    for content in contents:
        if isinstance(content, dict):
            messages += _messages(content)
    params = dict(as_dict(_get(body, "generationConfig")))
    tool_config = _get(body, "toolConfig")
    if tool_config is not None:
        params["toolConfig"] = tool_config
    match = PATH.search(path)
    return Request(
        model=model_in(path),
        messages=messages,
        tools=_tools(as_list(body.get("tools"))),
        params=params,
        stream=bool(match and match.group(2) == "streamGenerateContent"),
    )


def _messages(content: dict[str, Any]) -> list[dict[str, Any]]:
    """One content as messages: its function responses each become a ``tool`` message."""
    role = as_str(content.get("role")) or "user"
    parts = [as_dict(part) for part in as_list(content.get("parts"))]
    calls, answers, rest = [], [], []
    for part in parts:
        call, answer = as_dict(_get(part, "functionCall")), as_dict(_get(part, "functionResponse"))
        if call:
            calls.append(_call(call))
        elif answer:
            answers.append(_tool_message(answer))
        else:
            rest.append(part)
    messages: list[dict[str, Any]] = []
    if rest or calls or not answers:
        message: dict[str, Any] = {"role": "assistant" if role == "model" else role}
        message["content"] = _parts_content(rest) if rest or not calls else ""
        if calls:
            message["tool_calls"] = calls
        messages.append(message)
    return answers + messages  # results answer the calls just before them


def _parts_content(parts: list[Any]) -> str | list[Any]:
    """Text parts joined into one string; anything else kept as the list of parts."""
    parts = [as_dict(part) for part in parts]
    if all(set(part) == {"text"} and isinstance(part["text"], str) for part in parts):
        return "".join(part["text"] for part in parts)
    return parts


def _call(call: dict[str, Any]) -> dict[str, Any]:
    function = {"name": as_str(call.get("name")), "arguments": _dumps(call.get("args", {}))}
    return {"id": as_str(call.get("id")), "type": "function", "function": function}


def _tool_message(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": "tool",
        "tool_call_id": as_str(answer.get("id")) or as_str(answer.get("name")),
        "name": as_str(answer.get("name")),
        "content": _dumps(answer.get("response")),
    }


def _tools(entries: list[Any]) -> list[dict[str, Any]]:
    tools = []
    for entry in entries:
        entry = as_dict(entry)
        declarations = _get(entry, "functionDeclarations")
        if declarations is None:
            # A built-in tool: googleSearch, codeExecution, urlContext...
            tools += [tool(kind, None, None) for kind in entry]
            continue
        for spec in as_list(declarations):
            spec = as_dict(spec)
            schema = _get(spec, "parametersJsonSchema")
            schema = _get(spec, "parameters") if schema is None else schema
            tools.append(tool(spec.get("name"), spec.get("description"), schema))
    return tools


def read_body(data: Any, out: Output) -> None:
    """A complete response, or the JSON array a stream sends without ``alt=sse``."""
    for answer in data if isinstance(data, list) else [data]:
        _read_response(as_dict(answer), out, None)


def read_event(event: SseEvent, out: Output) -> None:
    _read_response(as_dict(load_json(event.data)), out, event.at)


def _read_response(data: dict[str, Any], out: Output, at: int | None) -> None:
    error = as_dict(data.get("error"))
    if error:
        out.error = as_str(error.get("message")) or as_str(error.get("status")) or "error"
    # Older models answer "models/gemini-2.5-pro"; the path and price tables say "gemini-2.5-pro".
    version = as_str(_get(data, "modelVersion")).removeprefix("models/")
    out.response_model = version or out.response_model
    _read_usage(as_dict(_get(data, "usageMetadata")), out)
    feedback = as_dict(_get(data, "promptFeedback"))
    out.finish_reason = as_str(_get(feedback, "blockReason")) or out.finish_reason
    candidate = _first_candidate(data)
    if candidate is None:
        return
    content = as_dict(candidate.get("content"))
    for part in as_list(content.get("parts")):
        _read_part(as_dict(part), out, at)
    out.finish_reason = as_str(_get(candidate, "finishReason")) or out.finish_reason


def _read_part(part: dict[str, Any], out: Output, at: int | None) -> None:
    call = as_dict(_get(part, "functionCall"))
    text = as_str(part.get("text"))
    if call:
        index = len(out.calls)
        out.start_call(index, call.get("id"), call.get("name"))
        out.set_arguments(index, _dumps(call.get("args", {})))
    elif text and part.get("thought") is True:
        out.thinking.append(text)
    elif text:
        out.text.append(text)
    else:
        return
    if at is not None:
        out.produced(at)


def _first_candidate(data: dict[str, Any]) -> dict[str, Any] | None:
    for candidate in as_list(data.get("candidates")):
        candidate = as_dict(candidate)
        if candidate and candidate.get("index", 0) == 0:
            return candidate
    return None


def _read_usage(usage: dict[str, Any], out: Output) -> None:
    """Gemini counts thinking apart from the answer; both are output here, as OpenAI counts."""
    if not usage:
        return
    prompt = as_count(_get(usage, "promptTokenCount"))
    tool_prompt = as_count(_get(usage, "toolUsePromptTokenCount")) or 0
    answer = as_count(_get(usage, "candidatesTokenCount"))
    thoughts = as_count(_get(usage, "thoughtsTokenCount")) or 0
    if prompt is not None:
        out.input_tokens = prompt + tool_prompt
    if answer is not None or thoughts:
        out.output_tokens = (answer or 0) + thoughts
    cached = as_count(_get(usage, "cachedContentTokenCount"))
    out.cached_tokens = out.cached_tokens if cached is None else cached


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return ""
