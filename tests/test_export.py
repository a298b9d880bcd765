"""agentreplay export: JSON lines, and OTLP JSON checked against OpenTelemetry's own schema."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentreplay.cli import main
from tests.agents import record_agent


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "agent.cassette"
    record_agent(path)
    return path


def _to_proto_json(otlp: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON writes ids in hex; protobuf's JSON mapping wants base64."""
    data: dict[str, Any] = json.loads(json.dumps(otlp))
    for resource in data["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return data


def test_otlp_export_parses_as_an_export_trace_service_request(
    recorded: Path, tmp_path: Path
) -> None:
    out = tmp_path / "trace.json"
    assert main(["export", str(recorded), "--format", "otlp", "-o", str(out)]) == 0
    otlp = json.loads(out.read_text())
    request = json_format.ParseDict(_to_proto_json(otlp), ExportTraceServiceRequest())
    spans = request.resource_spans[0].scope_spans[0].spans
    assert len(spans) == 7  # the run and its six steps
    root, *steps = spans
    assert len(root.trace_id) == 16 and len(root.span_id) == 8
    assert all(s.trace_id == root.trace_id for s in steps)
    by_name = {s.name: s for s in steps}
    chat = by_name["chat gpt-4o"]
    attrs = {a.key: a.value for a in chat.attributes}
    assert attrs["gen_ai.operation.name"].string_value == "chat"
    assert attrs["gen_ai.request.model"].string_value == "gpt-4o"
    assert attrs["gen_ai.usage.input_tokens"].int_value in (120, 200)
    assert chat.kind == chat.SPAN_KIND_CLIENT
    assert chat.parent_span_id in {s.span_id for s in spans}
    tool = next(s for s in steps if s.name.startswith("execute_tool"))
    assert {a.key: a.value for a in tool.attributes}["gen_ai.tool.name"].string_value.endswith(
        "remember"
    )
    for span in spans:
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 0


def test_otlp_ids_are_hex_as_otlp_json_requires(recorded: Path, tmp_path: Path) -> None:
    out = tmp_path / "trace.json"
    main(["export", str(recorded), "--format", "otlp", "-o", str(out)])
    spans = json.loads(out.read_text())["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for span in spans:
        assert len(span["traceId"]) == 32 and len(span["spanId"]) == 16
        int(span["traceId"], 16), int(span["spanId"], 16)


def test_jsonl_has_one_event_per_line(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(recorded), "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    import agentreplay

    with agentreplay.open(recorded) as cassette:
        assert len(lines) == cassette.event_count
    first = lines[0]
    assert first["kind"] in ("EntropyDraw", "HttpRequest", "ClockRead")
    request = next(line for line in lines if line["kind"] == "HttpRequest")
    assert json.loads(request["body"]["utf8"])["model"] == "gpt-4o"
    assert request["step"] == 1
