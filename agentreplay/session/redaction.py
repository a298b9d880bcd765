"""Keeping secrets out of cassettes.

On by default: the ``Authorization``, ``Proxy-Authorization``, ``x-api-key``,
``api-key`` and ``Cookie`` request headers, ``Set-Cookie`` response headers,
and ``key``/``api_key`` query parameters are replaced by ``[REDACTED]``
before anything is written. The same rules run on the replayed request before
matching, so redacted fields never cause a divergence.

Users add rules with `Redaction(headers=..., query=..., json_paths=...,
patterns=..., hooks=...)`. A JSON path is dotted (``$.user.email``,
``metadata.*.token``); ``*`` matches every key of an object or every item of
a list. A pattern is a regular expression (an email address, a card number):
its matches in request bodies and in response body chunks become
``[REDACTED]`` (a match split across two chunks of a stream is not seen). A
hook is a callable that takes a `RequestInfo` and returns it (changed or not).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from agentreplay.cassette.events import Headers
from agentreplay.errors import UsageError
from agentreplay.runtime.contract import RequestInfo

__all__ = ["REDACTED", "Redaction"]

REDACTED = "[REDACTED]"

DEFAULT_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "x-goog-api-key",
        "x-amz-security-token",  # AWS temporary credentials (Bedrock)
    }
)
DEFAULT_RESPONSE_HEADERS = frozenset({"set-cookie"})
DEFAULT_QUERY = frozenset({"key", "api_key", "apikey"})

Hook = Callable[[RequestInfo], RequestInfo]


def _redact_json(value: Any, parts: list[str]) -> Any:
    if not parts:
        return REDACTED
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head] if head in value else []
        for key in keys:
            value[key] = _redact_json(value[key], rest)
    elif isinstance(value, list):
        if head == "*":
            indexes: Iterable[int] = range(len(value))
        elif head.isdigit() and int(head) < len(value):
            indexes = [int(head)]
        else:
            indexes = []
        for i in indexes:
            value[i] = _redact_json(value[i], rest)
    return value


def _path_parts(path: str) -> list[str]:
    path = path.removeprefix("$").removeprefix(".")
    return [p for p in path.replace("[", ".").replace("]", "").split(".") if p]


@dataclass(frozen=True)
class Redaction:
    """What to keep out of a cassette. The defaults apply unless ``defaults=False``."""

    headers: Iterable[str] = ()
    query: Iterable[str] = ()
    json_paths: Iterable[str] = ()
    hooks: Iterable[Hook] = ()
    defaults: bool = True
    patterns: Iterable[str] = ()
    _headers: frozenset[str] = field(init=False, repr=False)
    _query: frozenset[str] = field(init=False, repr=False)
    _paths: tuple[list[str], ...] = field(init=False, repr=False)
    _response_headers: frozenset[str] = field(init=False, repr=False)
    _patterns: tuple[re.Pattern[bytes], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        extra_h = {h.lower() for h in self.headers}
        extra_q = set(self.query)
        object.__setattr__(
            self, "_headers", frozenset(extra_h | (DEFAULT_HEADERS if self.defaults else set()))
        )
        object.__setattr__(
            self, "_query", frozenset(extra_q | (DEFAULT_QUERY if self.defaults else set()))
        )
        object.__setattr__(self, "_paths", tuple(_path_parts(p) for p in self.json_paths))
        response = DEFAULT_RESPONSE_HEADERS if self.defaults else frozenset()
        object.__setattr__(self, "_response_headers", response | self._headers)
        object.__setattr__(self, "hooks", tuple(self.hooks))
        object.__setattr__(self, "patterns", tuple(self.patterns))
        object.__setattr__(self, "_patterns", tuple(_compile(p) for p in self.patterns))

    @classmethod
    def from_description(cls, described: Any) -> tuple[Redaction, list[str]]:
        """The rules a cassette header describes (see `describe`), and the names of its
        hooks, which are code and cannot come back from a description."""
        if not isinstance(described, dict):
            return cls(), []

        def names(key: str) -> list[str]:
            value = described.get(key)
            return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

        rules = cls(
            headers=names("headers"),
            query=names("query"),
            json_paths=names("json_paths"),
            patterns=names("patterns"),
        )
        return rules, names("hooks")

    def describe(self) -> dict[str, Any]:
        """The policy as plain data, for the cassette header."""
        return {
            "headers": sorted(self._headers),
            "query": sorted(self._query),
            "json_paths": [".".join(p) for p in self._paths],
            "patterns": list(self.patterns),
            "hooks": [getattr(h, "__qualname__", repr(h)) for h in self.hooks],
        }

    def _url(self, url: str) -> str:
        if "?" not in url or not self._query:
            return url
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(k in self._query for k, _ in pairs):
            return url
        query = urlencode([(k, REDACTED if k in self._query else v) for k, v in pairs], safe="[]")
        return urlunsplit(parts._replace(query=query))

    @staticmethod
    def _headers_of(headers: Headers, names: frozenset[str]) -> Headers:
        if names.isdisjoint([k.lower() for k, _ in headers]):
            return headers  # the common case: nothing to hide, nothing to copy
        return tuple((k, REDACTED if k.lower() in names else v) for k, v in headers)

    def _body(self, body: bytes) -> bytes:
        if self._patterns:
            body = self.body_chunk(body)
        if not self._paths or body[:1] not in (b"{", b"["):
            return body
        try:
            data = json.loads(body)
        except ValueError:
            return body
        for parts in self._paths:
            data = _redact_json(data, parts)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    def request(self, info: RequestInfo) -> RequestInfo:
        """The request as it may be written to a cassette."""
        url = self._url(info.url)
        headers = self._headers_of(info.headers, self._headers)
        body = self._body(info.body)
        redacted = info
        if url is not info.url or headers is not info.headers or body is not info.body:
            redacted = replace(info, url=url, headers=headers, body=body)
        for hook in self.hooks:
            redacted = hook(redacted)
        return redacted

    def response_headers(self, headers: Headers) -> Headers:
        return self._headers_of(headers, self._response_headers)

    def body_chunk(self, data: bytes) -> bytes:
        """A piece of a body with every pattern's matches hidden."""
        for pattern in self._patterns:
            data = pattern.sub(_REDACTED_BYTES, data)
        return data


_REDACTED_BYTES = REDACTED.encode()


def _compile(pattern: str) -> re.Pattern[bytes]:
    try:
        return re.compile(pattern.encode())
    except re.error as exc:
        message = f"redaction pattern {pattern!r} is not a regular expression: {exc}"
        raise UsageError(message) from None
