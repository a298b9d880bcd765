"""Field changes in plain text, and the diff of two requests (for divergence reports).

`change_lines` words a pair's changes one per line, with text changes as
word or line diffs (``[-removed-]{+added+}``) and chat messages named by
index and role. `request_changes` compares two HTTP requests the way the run
diff compares two steps, so a divergence report and ``agentreplay diff`` say
the same thing about a changed prompt.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentreplay.cassette.events import HttpRequest
from agentreplay.errors import RequestSnapshot
from agentreplay.jsondiff import short
from agentreplay.llm import detect_api
from agentreplay.rundiff.fields import compare_fields, step_fields
from agentreplay.rundiff.ignore import Ignore
from agentreplay.rundiff.model import FieldChange
from agentreplay.rundiff.text import plain
from agentreplay.steps import step_from_events

__all__ = ["change_lines", "is_model_call", "request_changes"]

_RESPONSE_FIELDS = frozenset(
    {"state", "error", "response_model", "output_text", "thinking", "tool_calls", "status"}
)


def _where(change: FieldChange) -> str:
    where = change.path
    end = where.find("]")
    if change.label and end >= 0:
        where = f"{where[: end + 1]} ({change.label}){where[end + 1 :]}"
    if change.b_path:
        where += f" (B: {change.b_path})"
    return where


def change_lines(changes: Iterable[FieldChange], limit: int = 40, width: int = 160) -> list[str]:
    """One line per change (at most ``limit``), each cut to about ``width`` characters."""
    lines: list[str] = []
    found = list(changes)
    for change in found[:limit]:
        where = _where(change)
        if change.kind == "added":
            lines.append(f"+ {where}: {short(change.new, width)}")
        elif change.kind == "removed":
            lines.append(f"- {where}: {short(change.old, width)}")
        else:
            pieces = change.text_diff()
            if pieces is None:
                lines.append(f"~ {where}: {short(change.old, 60)} → {short(change.new, 60)}")
            else:
                text = plain(pieces).replace("\n", "⏎")
                cut = text if len(text) <= width else text[: width - 1] + "…"
                lines.append(f"~ {where}: {cut}")
    if len(found) > limit:
        lines.append(f"… and {len(found) - limit} more")
    return lines


def request_changes(
    expected: RequestSnapshot, actual: RequestSnapshot, ignore: Iterable[str] = ()
) -> list[FieldChange]:
    """How request ``actual`` differs from ``expected``, field by field: for a model API
    call, its messages aligned by role, tools offered, parameters; for another request,
    method, URL and body (a JSON body as data)."""
    rules = Ignore.of(ignore)
    trees = []
    for request in (expected, actual):
        event = HttpRequest("0", 0, 0, request.method, request.url, (), request.body, "")
        step = step_from_events(1, [event])
        assert step is not None
        tree = rules.strip(step_fields(step))
        if step.llm is not None:
            tree = {k: v for k, v in tree.items() if k not in _RESPONSE_FIELDS}
        else:
            body = (tree.get("request") or {}).get("body")
            tree = {"method": request.method, "url": request.url, "body": body}
        trees.append(tree)
    return compare_fields(trees[0], trees[1])


def is_model_call(request: RequestSnapshot) -> bool:
    """Does ``request`` call a model API the run diff decodes?"""
    return detect_api(request.method, request.url) is not None
