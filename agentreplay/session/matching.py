"""Does a replayed request match the recorded one, and if not, how does it differ?

A matcher is one method: ``diff(expected, actual) -> list[str]``, empty when
the requests match, else human-readable lines. The default compares method,
URL and body; a JSON body is compared as data, so a diff names the paths that
differ (``$.messages[2].content``) rather than printing two blobs. Headers
are not compared (user agents, SDK versions, signatures and dates differ from
run to run), and for a model API a field that one side leaves out and the
other sends at its default (or as null) is the same question asked: an SDK
upgrade that starts sending ``"stream": false`` still matches.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from agentreplay import jsondiff
from agentreplay.runtime.contract import RequestInfo
from agentreplay.session.secrets import REDACTED

__all__ = ["DefaultMatcher", "Matcher", "RequestInfo", "json_diff", "with_hints"]


class Matcher(Protocol):
    def diff(self, expected: RequestInfo, actual: RequestInfo) -> list[str]:
        """Return the differences between two requests; an empty list means they match."""
        ...


def _parse_json(body: bytes) -> tuple[bool, Any]:
    if not body or body[:1] not in b"{[":
        return False, None
    try:
        return True, json.loads(body)
    except ValueError:
        return False, None


def json_diff(a: Any, b: Any) -> list[str]:
    """The paths where two JSON values differ, with both values, as lines
    (``$.messages[0].content: 'Paris' != 'Rome'``), at most `jsondiff.MAX_LINES`."""
    return jsondiff.render(jsondiff.diff(a, b))


def _split_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2].lower()  # credentials are not the question asked
    base = f"{parts.scheme.lower()}://{host}{parts.path or '/'}"
    return base, parse_qsl(parts.query, keep_blank_values=True)


def _same_query(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> bool:
    """Same parameters in any order; a value redacted on one side matches any value (a
    cassette made before a name was added to the secret ones)."""
    if sorted(a) == sorted(b):
        return True
    if len(a) != len(b):
        return False
    hidden = {name for name, value in (*a, *b) if value == REDACTED}
    return sorted((k, "" if k in hidden else v) for k, v in a) == sorted(
        (k, "" if k in hidden else v) for k, v in b
    )


# What model APIs do when a field is left out; None stands for JSON null, which they
# read as left out too. Only top-level fields present on one side are forgiven.
_MODEL_API_DEFAULTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "/chat/completions",
        {
            "stream": False,
            "n": 1,
            "store": False,
            "logprobs": False,
            "presence_penalty": 0,
            "frequency_penalty": 0,
            "parallel_tool_calls": True,
        },
    ),
    (
        "/responses",
        {"stream": False, "store": True, "background": False, "parallel_tool_calls": True},
    ),
    ("/messages", {"stream": False}),
)


def _defaults_of(url: str) -> dict[str, Any] | None:
    path = urlsplit(url).path.rstrip("/")
    return next((d for suffix, d in _MODEL_API_DEFAULTS if path.endswith(suffix)), None)


def _without_defaults(mine: Any, other: Any, defaults: dict[str, Any]) -> Any:
    """``mine`` without the top-level fields ``other`` lacks that hold their default."""
    if not isinstance(mine, dict) or not isinstance(other, dict):
        return mine

    def at_default(key: str, value: Any) -> bool:
        if value is None:
            return True
        default = defaults.get(key)
        return key in defaults and value == default and type(value) is type(default)

    return {k: v for k, v in mine.items() if k in other or not at_default(k, v)}


def body_diff(expected: bytes, actual: bytes, defaults: dict[str, Any] | None = None) -> list[str]:
    """The differences of two bodies; ``defaults``, for a model API, are its fields'
    default values (see `_MODEL_API_DEFAULTS`)."""
    if expected == actual:
        return []
    ok_a, a = _parse_json(expected)
    ok_b, b = _parse_json(actual)
    if ok_a and ok_b:
        if defaults is not None:
            a, b = _without_defaults(a, b, defaults), _without_defaults(b, a, defaults)
        return [f"body {line}" for line in json_diff(a, b)]
    try:
        change = jsondiff.Change((), "changed", expected.decode(), actual.decode())
        return jsondiff.render([change], root="body")
    except UnicodeDecodeError:
        return [f"body: {len(expected)} bytes != {len(actual)} bytes (binary)"]


class DefaultMatcher:
    """Method, URL (query parameters in any order) and body (JSON-aware)."""

    def diff(self, expected: RequestInfo, actual: RequestInfo) -> list[str]:
        if (
            expected.url == actual.url
            and expected.body == actual.body
            and expected.method == actual.method
        ):
            return []  # the same request, byte for byte: nothing to parse
        lines: list[str] = []
        if expected.method.upper() != actual.method.upper():
            lines.append(f"method: {expected.method} != {actual.method}")
        base_a, query_a = _split_url(expected.url)
        base_b, query_b = _split_url(actual.url)
        if base_a != base_b:
            lines.append(f"url: {base_a} != {base_b}")
        if not _same_query(query_a, query_b):
            lines.append(f"query: {dict(query_a)} != {dict(query_b)}")
        lines.extend(body_diff(expected.body, actual.body, _defaults_of(expected.url)))
        return lines


def with_hints(
    diff: list[str], expected: RequestInfo, actual: RequestInfo, seed: object
) -> list[str]:
    """``diff`` and what may explain it: an address from the environment, when only the
    URL differs; items in another order, when the hash seed ``seed`` of the recording
    was not the replay's."""
    if all(line.startswith("url: ") for line in diff):  # nothing else differs
        diff = [*diff, *address_hint(expected.url, actual.url)]
    return diff + order_hint(expected.body, actual.body, seed)


def address_hint(expected: str, actual: str) -> list[str]:
    """A hint when only the host or port differs: usually an address from the environment."""
    a, b = urlsplit(expected), urlsplit(actual)
    if a.netloc == b.netloc or (a.scheme, a.path) != (b.scheme, b.path):
        return []
    return [
        f"(only the address differs: if it comes from an environment variable, set it to "
        f"{a.scheme}://{a.netloc} for the replay, or keep it in the cassette with "
        f"`agentreplay record --env NAME`)"
    ]


_SEPARATORS = re.compile(r"[,;|\s]+")


def _reordered(a: Any, b: Any) -> bool:
    """Are ``a`` and ``b`` equal up to the order of items (in lists, or in text that
    lists words or names, such as ``", ".join(a_set)``)?"""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_reordered(a[k], b[k]) for k in a)
    if isinstance(a, list):
        if len(a) != len(b):
            return False
        if all(_reordered(x, y) for x, y in zip(a, b, strict=True)):
            return True
        key = partial(json.dumps, sort_keys=True)
        return sorted(map(key, a)) == sorted(map(key, b))
    if isinstance(a, str) and a != b:
        return sorted(filter(None, _SEPARATORS.split(a))) == sorted(
            filter(None, _SEPARATORS.split(b))
        )
    return bool(a == b)


def order_hint(expected: bytes, actual: bytes, seed: object) -> list[str]:
    """A hint when two bodies hold the same items in another order: the order of a set
    or of a dict built from one follows the string hash seed of the interpreter."""
    ok_a, a = _parse_json(expected)
    ok_b, b = _parse_json(actual)
    if not (ok_a and ok_b) or a == b or not _reordered(a, b):
        return []
    fix = (
        f"run with PYTHONHASHSEED={seed}, as recorded"
        if seed not in (None, "")
        else "the recording's seed is unknown: record again with PYTHONHASHSEED set"
    )
    return [
        f"(only the order of the same items differs: the order of a set of strings "
        f"follows the string hash seed; {fix})"
    ]
