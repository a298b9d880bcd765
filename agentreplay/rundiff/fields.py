"""A step as the fields a diff compares, and what changed between two of them.

`step_fields` turns a decoded `Step` into plain data: for an LLM call the
model, the messages sent (the system prompt is ``messages[0]``), the tools
offered, the sampling parameters, and the answer (text, thinking, tool calls
with their arguments as JSON, finish reason); for another HTTP call the
method, URL, status, and both sides' headers and bodies (JSON bodies as
data); for a tool function its arguments and result; for a span its name.
Every step also has ``state`` (ok, error, open) and ``error``.

`compare_fields` lists the `FieldChange` s between two such trees: chat
messages and tools offered are aligned first (so one inserted message is one
change, not every later message "edited"), then each aligned pair is diffed
structurally with `agentreplay.jsondiff`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from agentreplay import jsondiff
from agentreplay.cassette.events import Headers
from agentreplay.rundiff.model import FieldChange
from agentreplay.steps import Step

__all__ = ["coarse_key", "compare_fields", "content_digest", "fingerprint", "step_fields"]

_BODY_LIMIT = 1024 * 1024  # bigger bodies are compared by size and digest
_ALIGNED = {"messages": "role", "tools": "name"}


def plain(value: Any) -> Any:
    """``value`` as JSON holds it: bytes as their repr, tuples as lists, keys as text."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return repr(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _headers(headers: Headers | None) -> dict[str, str] | None:
    if headers is None:
        return None
    found: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        found[key] = f"{found[key]}, {value}" if key in found else value
    return found


def _body(data: bytes | None) -> Any:
    if not data:
        return ""
    if len(data) > _BODY_LIMIT:
        return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if data[:1] in b"{[":
        try:
            return json.loads(data)
        except ValueError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _arguments(text: str, parsed: Any) -> Any:
    return parsed if parsed is not None or text.strip() == "null" else text


def step_fields(step: Step) -> dict[str, Any]:
    """What a diff compares of ``step`` (see the module docstring), as plain data. What
    came from JSON (an LLM call, HTTP bodies) is shared with the step, not copied."""
    tree: dict[str, Any] = {"state": step.status, "error": step.error}
    llm = step.llm
    if llm is not None:
        tree.update(
            model=llm.model,
            response_model=llm.response_model,
            messages=llm.messages,
            tools=llm.tools,
            params=llm.params,
            stream=llm.stream,
            output_text=llm.output_text,
            thinking=llm.thinking,
            tool_calls=[
                {"id": c.id, "name": c.name, "arguments": _arguments(c.arguments, c.parsed)}
                for c in llm.tool_calls
            ],
            finish_reason=llm.finish_reason,
            status=llm.status,
        )
    elif step.kind == "http":
        tree.update(method=step.method, url=step.url, status=step.http_status)
        if step.request_headers is not None:
            tree["request"] = {
                "headers": _headers(step.request_headers),
                "body": _body(step.request_body),
            }
            tree["response"] = (
                None
                if step.response_headers is None
                else {"headers": _headers(step.response_headers), "body": _body(step.response_body)}
            )
    elif step.kind == "tool":
        tree.update(name=step.name, args=plain(step.args), kwargs=plain(step.kwargs))
        tree["value"] = plain(step.value)
    else:
        tree["name"] = step.name
    return tree


_CANONICAL = json.JSONEncoder(
    sort_keys=True,
    ensure_ascii=False,
    check_circular=False,  # a tree of decoded JSON and plain data has no cycles
    separators=(",", ":"),
    default=repr,
)


def content_digest(tree: dict[str, Any]) -> bytes:
    """A digest of the whole tree: equal for equal trees, whatever their key order."""
    text = _CANONICAL.encode(tree)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _url_base(url: str | None) -> str:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return url or ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"


def fingerprint(step: Step, tree: dict[str, Any]) -> tuple[Any, ...]:
    """What a step asked for, not what came back: steps are aligned on this. The kind; the
    API, model and tool names offered of an LLM call; the method, URL without its query and
    top-level body keys of an HTTP call; a tool's name and how it was called. ``tree`` is
    the step's `step_fields`."""
    llm = step.llm
    if llm is not None:
        names = tuple(str(tool.get("name")) for tool in llm.tools)
        return ("llm", llm.api, llm.model, names)
    if step.kind == "http":
        body = (tree.get("request") or {}).get("body")
        shape = tuple(sorted(body)) if isinstance(body, dict) else type(body).__name__
        return ("http", step.method, _url_base(step.url), shape)
    if step.kind == "tool":
        return ("tool", step.name, len(step.args), tuple(sorted(map(str, step.kwargs))))
    return (step.kind, step.name)


def coarse_key(step: Step) -> tuple[str, str]:
    """The last resort of alignment: the kind, and the model, host, tool or span name."""
    if step.llm is not None:
        return ("llm", step.llm.model)
    if step.kind == "http":
        try:
            return ("http", urlsplit(step.url or "").netloc.lower())
        except ValueError:
            return ("http", "")
    return (step.kind, step.name)


def compare_fields(a: dict[str, Any], b: dict[str, Any]) -> list[FieldChange]:
    """The changes from field tree ``a`` to ``b`` (both already stripped of ignored fields)."""
    changes: list[FieldChange] = []
    keys = [*a, *(key for key in b if key not in a)]
    for key in keys:
        if key not in b:
            changes.append(FieldChange(key, "removed", old=a[key]))
        elif key not in a:
            changes.append(FieldChange(key, "added", new=b[key]))
        elif key in _ALIGNED and isinstance(a[key], list) and isinstance(b[key], list):
            changes += _aligned(key, a[key], b[key], _ALIGNED[key])
        else:
            changes += _structural(jsondiff.diff(a[key], b[key], (key,)))
    return changes


def _structural(found: list[jsondiff.Change]) -> list[FieldChange]:
    return [FieldChange(jsondiff.path_text(c.path, ""), c.kind, c.old, c.new) for c in found]


def _label(item: Any, by: str) -> str | None:
    return str(item.get(by)) if isinstance(item, dict) and item.get(by) is not None else None


def _key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, default=repr)


def _aligned(name: str, a: list[Any], b: list[Any], by: str) -> list[FieldChange]:
    """Messages (or tools) aligned on their whole content, then, where they differ, on
    their role (or name): unmatched items are added or removed, matched ones edited."""
    changes: list[FieldChange] = []
    outer = difflib.SequenceMatcher(None, [_key(x) for x in a], [_key(x) for x in b], False)
    for op, i1, i2, j1, j2 in outer.get_opcodes():
        if op == "equal":
            continue
        labels_a = [_label(x, by) for x in a[i1:i2]]
        labels_b = [_label(x, by) for x in b[j1:j2]]
        inner = difflib.SequenceMatcher(None, labels_a, labels_b, False)
        for op2, k1, k2, l1, l2 in inner.get_opcodes():
            if op2 == "equal":
                for i, j in zip(range(i1 + k1, i1 + k2), range(j1 + l1, j1 + l2), strict=True):
                    changes += _edited(name, i, j, a[i], b[j], _label(a[i], by))
                continue
            changes += [
                FieldChange(f"{name}[{i}]", "removed", old=a[i], label=_label(a[i], by))
                for i in range(i1 + k1, i1 + k2)
            ]
            changes += [
                FieldChange(f"{name}[{j}]", "added", new=b[j], label=_label(b[j], by))
                for j in range(j1 + l1, j1 + l2)
            ]
    return changes


def _edited(name: str, i: int, j: int, a: Any, b: Any, label: str | None) -> list[FieldChange]:
    """Item ``i`` of a against item ``j`` of b; paths are a's, with b's beside when the
    item moved."""
    return [
        FieldChange(
            jsondiff.path_text(c.path, ""),
            c.kind,
            c.old,
            c.new,
            label=label,
            b_path=None if i == j else jsondiff.path_text((name, j, *c.path[2:]), ""),
        )
        for c in jsondiff.diff(a, b, (name, i))
    ]
