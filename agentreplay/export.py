"""Exporting a cassette: JSON lines of its events, or OTLP JSON spans of its steps.

The OTLP form follows OpenTelemetry's GenAI semantic conventions, so a
recorded run loads into existing tracing tools: one trace per run (its id is
the run id), a root span for the run, and a span per step under its parent
step, named ``chat {model}``, ``execute_tool {name}``, the HTTP method, or the
span's own name.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from agentreplay._version import __version__
from agentreplay.cassette.events import ErrorInfo, Event
from agentreplay.steps import Cassette, Step, iter_steps

__all__ = ["jsonl_lines", "otlp_json"]

SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
STATUS_OK = 1
STATUS_ERROR = 2


def _bytes(value: bytes) -> dict[str, str]:
    try:
        return {"utf8": value.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return _bytes(value)
    if isinstance(value, ErrorInfo):
        return {"type": value.type, "message": value.message, "traceback": value.traceback}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def event_record(step: int, event: Event) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": type(event).__name__, "step": step}
    for field in dataclasses.fields(event):
        record[field.name] = _plain(getattr(event, field.name))
    return record


def jsonl_lines(cassette: Cassette) -> Iterator[str]:
    """One JSON object per event, in recording order; bytes as {"utf8"} or {"base64"}."""
    for step, event in cassette.events_with_steps(errors="warn"):
        yield json.dumps(event_record(step, event), ensure_ascii=False)


# -- OTLP ----------------------------------------------------------------------------


def _attr(key: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": str(v)} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": str(value)}}


def _attrs(pairs: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in (_attr(k, v) for k, v in pairs.items()) if a is not None]


def _span_id(run_id: str, number: int) -> str:
    return hashlib.blake2b(f"{run_id}/{number}".encode(), digest_size=8).hexdigest()


def _llm_attributes(step: Step) -> tuple[str, dict[str, Any]]:
    llm = step.llm
    assert llm is not None
    params = llm.params
    max_tokens = (
        params.get("max_tokens")
        or params.get("max_completion_tokens")
        or params.get("max_output_tokens")
    )
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": llm.provider,
        "gen_ai.system": llm.provider,
        "gen_ai.request.model": llm.model,
        "gen_ai.response.model": llm.response_model,
        "gen_ai.request.temperature": _float(params.get("temperature")),
        "gen_ai.request.top_p": _float(params.get("top_p")),
        "gen_ai.request.max_tokens": max_tokens if isinstance(max_tokens, int) else None,
        "gen_ai.request.seed": params.get("seed") if isinstance(params.get("seed"), int) else None,
        "gen_ai.response.finish_reasons": [llm.finish_reason] if llm.finish_reason else None,
        "gen_ai.usage.input_tokens": llm.input_tokens,
        "gen_ai.usage.output_tokens": llm.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": llm.cached_tokens,
        "gen_ai.input.messages": json.dumps(llm.messages, ensure_ascii=False, default=str),
        "gen_ai.output.messages": json.dumps(_output_messages(step), ensure_ascii=False),
        "gen_ai.tool.definitions": json.dumps(llm.tools, ensure_ascii=False, default=str)
        if llm.tools
        else None,
        "agentreplay.ttft_s": llm.ttft,
        "agentreplay.cost_usd": step.cost,
    }
    return f"chat {llm.model}", attributes


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _output_messages(step: Step) -> list[dict[str, Any]]:
    llm = step.llm
    assert llm is not None
    parts: list[dict[str, Any]] = []
    if llm.output_text:
        parts.append({"type": "text", "content": llm.output_text})
    for call in llm.tool_calls:
        parts.append(
            {
                "type": "tool_call",
                "id": call.id,
                "name": call.name,
                "arguments": call.parsed if call.parsed is not None else call.arguments,
            }
        )
    return [{"role": "assistant", "parts": parts, "finish_reason": llm.finish_reason}]


def _step_span(step: Step, run_id: str, trace_id: str, start_ns: int) -> dict[str, Any]:
    attributes: dict[str, Any] = {"agentreplay.step": step.number, "agentreplay.task": step.task}
    kind = SPAN_KIND_INTERNAL
    if step.llm is not None:
        name, extra = _llm_attributes(step)
        attributes.update(extra)
        kind = SPAN_KIND_CLIENT
    elif step.kind == "http":
        name = step.method or "HTTP"
        kind = SPAN_KIND_CLIENT
        attributes.update(
            {
                "http.request.method": step.method,
                "url.full": step.url,
                "http.response.status_code": step.http_status,
            }
        )
    elif step.kind == "tool":
        name = f"execute_tool {step.name}"
        attributes.update({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": step.name})
    else:
        name = step.name
    attributes.update(
        {
            "http.request.method": step.method,
            "url.full": step.url,
            "http.response.status_code": step.http_status,
        }
        if step.llm is not None
        else {}
    )
    end_at = step.end_at if step.end_at is not None else step.start_at
    span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": _span_id(run_id, step.number),
        "parentSpanId": _span_id(run_id, step.parent),
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start_ns + step.start_at),
        "endTimeUnixNano": str(start_ns + end_at),
        "attributes": _attrs(attributes),
        "status": {"code": STATUS_ERROR, "message": step.error or "error"}
        if step.status == "error"
        else {"code": STATUS_OK},
    }
    return span


def otlp_json(cassette: Cassette) -> dict[str, Any]:
    """An OTLP ExportTraceServiceRequest, in OTLP's JSON encoding (hex ids)."""
    header = cassette.header
    run_id = str(
        header.get("run_id")
        or hashlib.blake2b(str(cassette.path).encode(), digest_size=16).hexdigest()
    )
    trace_id = run_id.replace("-", "")[:32].ljust(32, "0")
    start_ns = int(header.get("created_ns") or 0)
    spans = []
    last = 0
    for step in iter_steps(cassette):
        spans.append(_step_span(step, run_id, trace_id, start_ns))
        last = max(last, step.end_at or step.start_at)
    outcome = cassette.outcome
    if outcome is not None:
        last = max(last, outcome.at)
    root: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": _span_id(run_id, 0),
        "name": f"agent run {header.get('entrypoint') or ''}".strip(),
        "kind": SPAN_KIND_INTERNAL,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + last),
        "attributes": _attrs(
            {
                "gen_ai.operation.name": "invoke_agent",
                "agentreplay.run_id": run_id,
                "agentreplay.cassette": str(cassette.path),
            }
        ),
        "status": {"code": STATUS_ERROR, "message": str(outcome.error)}
        if outcome is not None and outcome.error is not None
        else {"code": STATUS_OK},
    }
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": _attrs(
                        {"service.name": "agentreplay", "agentreplay.python": header.get("python")}
                    )
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "agentreplay", "version": __version__},
                        "spans": [root, *spans],
                    }
                ],
            }
        ]
    }
