"""Keeping secrets out of cassettes (the guarantee is written in docs/redaction.md).

On by default, before anything is written: every header, query parameter and
form field whose name reads as secret (see `agentreplay.session.secrets`:
``Authorization``, ``Cookie``, ``Set-Cookie``, ``*-Key``, ``*-Token``,
``*-Secret``, ``*-Signature``, ``key``, ``access_token``, ``password``, ...,
in any case) is written ``[REDACTED]``, and so is the ``user:password`` of a
URL. Every value hidden that way, and the value of every secret-named
environment variable, is then searched for in everything else the run
records (error messages, tracebacks, tool arguments and values, bodies,
argv, kept environment values) and replaced there too.

Users add rules with `Redaction(headers=..., query=..., json_paths=...,
patterns=..., hooks=...)`. A JSON path is dotted (``$.user.email``,
``metadata.*.token``); ``*`` matches every key of an object or every item of
a list; it applies to JSON request bodies, to each tool argument (the
keyword arguments as one object) and to tool results. A pattern is a regular
expression whose every match, in any string recorded, is replaced. A hook
is a callable that takes a `RequestInfo` and returns it (changed or not).

A `Redactor` applies the rules for one run and remembers the secrets it met.
Replay uses one too, on the live side, so redacted fields never cause a
divergence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, overload
from urllib.parse import unquote_plus

from agentreplay.cassette.events import ErrorInfo, Headers
from agentreplay.cassette.values import copy_plain
from agentreplay.errors import UsageError
from agentreplay.runtime.contract import RequestInfo
from agentreplay.session.secrets import (
    REDACTED,
    Secrets,
    is_secret_name,
    scrub_plain,
    userinfo_forms,
)

__all__ = ["REDACTED", "Redaction", "Redactor"]

DEFAULTS_VERSION = 2
"""Written in the header: a cassette without it was redacted by the exact names it
lists, and is matched on replay by those alone."""

Hook = Callable[[RequestInfo], RequestInfo]
_REDACTED_BYTES = REDACTED.encode()
_FORM = "application/x-www-form-urlencoded"


def _redact_json(value: Any, parts: list[str], found: list[Any]) -> Any:
    if not parts:
        found.append(value)
        return REDACTED
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head] if head in value else []
        for key in keys:
            value[key] = _redact_json(value[key], rest, found)
    elif isinstance(value, list):
        if head == "*":
            indexes: Iterable[int] = range(len(value))
        elif head.isdigit() and int(head) < len(value):
            indexes = [int(head)]
        else:
            indexes = []
        for i in indexes:
            value[i] = _redact_json(value[i], rest, found)
    return value


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(pattern)
    except re.error as exc:
        message = f"redaction pattern {pattern!r} is not a regular expression: {exc}"
        raise UsageError(message) from None


def _path_parts(path: str) -> list[str]:
    path = path.removeprefix("$").removeprefix(".")
    return [p for p in path.replace("[", ".").replace("]", "").split(".") if p]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


@dataclass(frozen=True)
class Redaction:
    """What to keep out of a cassette. The defaults apply unless ``defaults=False``."""

    headers: Iterable[str] = ()
    query: Iterable[str] = ()
    json_paths: Iterable[str] = ()
    hooks: Iterable[Hook] = ()
    defaults: bool = True
    patterns: Iterable[str | re.Pattern[str]] = ()
    _headers: frozenset[str] = field(init=False, repr=False)
    _query: frozenset[str] = field(init=False, repr=False)
    _paths: tuple[list[str], ...] = field(init=False, repr=False)
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False)
    _byte_patterns: tuple[re.Pattern[bytes], ...] = field(init=False, repr=False)
    _kinds: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)
    """Each header name's kind (see `Redactor._kind`), found once for all runs."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_headers", frozenset(h.lower() for h in self.headers))
        object.__setattr__(self, "_query", frozenset(q.lower() for q in self.query))
        object.__setattr__(self, "_paths", tuple(_path_parts(p) for p in self.json_paths))
        compiled = tuple(_compile(p) for p in self.patterns)
        object.__setattr__(self, "patterns", tuple(p.pattern for p in compiled))
        object.__setattr__(self, "_patterns", compiled)
        object.__setattr__(
            self,
            "_byte_patterns",
            tuple(re.compile(p.pattern.encode("utf-8"), p.flags & ~re.UNICODE) for p in compiled),
        )
        object.__setattr__(self, "hooks", tuple(self.hooks))
        object.__setattr__(self, "_kinds", {})

    @classmethod
    def from_description(cls, described: Any) -> tuple[Redaction, list[str]]:
        """The rules a cassette header describes (see `describe`), and the names of its
        hooks, which are code and cannot come back from a description."""
        if not isinstance(described, dict):
            return cls(), []

        def names(key: str) -> list[str]:
            value = described.get(key)
            return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

        patterns = []
        for source in names("patterns"):
            try:
                patterns.append(re.compile(source))
            except re.error:
                continue  # a pattern this Python cannot compile: the others still apply
        rules = cls(
            headers=names("headers"),
            query=names("query"),
            json_paths=names("json_paths"),
            patterns=patterns,
            # A cassette from before the list of secret names: match by its names alone.
            defaults=described.get("defaults") is not None,
        )
        return rules, names("hooks")

    def describe(self) -> dict[str, Any]:
        """The policy as plain data, for the cassette header."""
        return {
            "defaults": DEFAULTS_VERSION if self.defaults else None,
            "headers": sorted(self._headers),
            "query": sorted(self._query),
            "json_paths": [".".join(p) for p in self._paths],
            "patterns": [p.pattern for p in self._patterns],
            "hooks": [getattr(h, "__qualname__", repr(h)) for h in self.hooks],
        }

    def body_chunk(self, data: bytes) -> bytes:
        """A piece of a body with every pattern's matches hidden (the rules alone)."""
        for pattern in self._byte_patterns:
            data = pattern.sub(_REDACTED_BYTES, data)
        return data

    def redactor(self, *, environment: bool = True) -> Redactor:
        """A redactor for one run; ``environment`` learns the secrets of ``os.environ``."""
        return Redactor(self, environment=environment)

    def request(self, info: RequestInfo) -> RequestInfo:
        """The request as it may be written to a cassette (the rules alone)."""
        return Redactor(self, environment=False).request(info)

    def response_headers(self, headers: Headers) -> Headers:
        return Redactor(self, environment=False).response_headers(headers)

    def secret_header(self, name: str) -> bool:
        return (self.defaults and is_secret_name(name)) or name.lower() in self._headers

    def secret_parameter(self, name: str) -> bool:
        return (self.defaults and is_secret_name(name)) or name.lower() in self._query


class Redactor:
    """The rules of a `Redaction` applied to one run, with the secrets it has met."""

    def __init__(self, rules: Redaction, *, environment: bool = True) -> None:
        self.rules = rules
        self.secrets = Secrets()
        if environment and rules.defaults:
            self.secrets.learn_environment()
        self._patterns = rules._patterns
        self._byte_patterns = rules._byte_patterns
        self._kinds = rules._kinds  # the rules' alone: shared by every run

    @property
    def active(self) -> bool:
        """Whether any string may need changing: secrets met, or patterns given."""
        return bool(self.secrets._text) or bool(self._patterns)

    # -- strings and values ---------------------------------------------------
    def text(self, text: str) -> str:
        if self.secrets._text:
            text = self.secrets.text(text)
        for pattern in self._patterns:
            text = pattern.sub(REDACTED, text)
        return text

    def data(self, data: bytes) -> bytes:
        if self.secrets._data:
            data = self.secrets.data(data)
        for pattern in self._byte_patterns:
            data = pattern.sub(_REDACTED_BYTES, data)
        return data

    def value(self, value: Any) -> Any:
        """Plain data with secrets and patterns taken out of every string."""
        if not self.active:
            return value
        return scrub_plain(value, self.text, self.data)

    @overload
    def error(self, error: ErrorInfo) -> ErrorInfo: ...
    @overload
    def error(self, error: None) -> None: ...
    @overload
    def error(self, error: ErrorInfo | None) -> ErrorInfo | None: ...

    def error(self, error: ErrorInfo | None) -> ErrorInfo | None:
        if error is None or not self.active:
            return error
        args = self.value(error.args) if error.args is not None else None
        return ErrorInfo(error.type, self.text(error.message), self.text(error.traceback), args)

    def tool_args(
        self, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """A tool's arguments as they may be written: JSON paths apply to each positional
        argument and to the keyword arguments as one object. The caller's are not changed."""
        if self.rules._paths:
            args = [self._json_paths(copy_plain(arg)) for arg in args]
            kwargs = self._json_paths(copy_plain(kwargs))
        return self.value(args), self.value(kwargs)

    def tool_value(self, value: Any) -> Any:
        if self.rules._paths:
            value = self._json_paths(copy_plain(value))
        return self.value(value)

    def _json_paths(self, value: Any) -> Any:
        if not isinstance(value, (dict, list)):
            return value
        found: list[Any] = []
        for parts in self.rules._paths:
            value = _redact_json(value, parts, found)
        self.secrets.learn_all(s for item in found for s in _strings(item))
        return value

    def header(self, header: dict[str, Any]) -> dict[str, Any]:
        """A cassette header with secrets out of argv, kept environment values, entrypoint
        arguments and metadata (all but the redaction policy itself)."""
        argv = header.get("argv")
        if isinstance(argv, list) and self.rules.defaults:
            header = {**header, "argv": self._argv([str(a) for a in argv])}
        env = header.get("env")
        if isinstance(env, dict):
            header = {**header, "env": {k: self._url(v) for k, v in env.items()}}
        return {k: (v if k == "redaction" else self.value(v)) for k, v in header.items()}

    def _argv(self, argv: list[str]) -> list[str]:
        """``--api-key X`` and ``--token=X`` with the value hidden (and learnt)."""
        out: list[str] = []
        hide_next = False
        for arg in argv:
            if hide_next:
                self.secrets.learn(arg)
                out.append(REDACTED)
                hide_next = False
                continue
            name, eq, value = arg.partition("=")
            if name.startswith("-") and is_secret_name(name.lstrip("-")):
                if eq:
                    self.secrets.learn(value)
                    arg = f"{name}={REDACTED}"
                else:
                    hide_next = True
            out.append(self._url(arg))
        return out

    # -- HTTP -----------------------------------------------------------------
    def _url(self, url: str) -> str:
        """Credentials and secret query parameters out of ``url`` (learnt as secrets)."""
        if "?" not in url and "@" not in url:
            return url
        scheme, sep, rest = url.partition("://")
        if sep and self.rules.defaults:
            end = min(
                (i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0),
                default=len(rest),
            )
            at = rest.rfind("@", 0, end)
            if at >= 0:
                self.secrets.learn_all(userinfo_forms(unquote_plus(rest[:at])))
                self.secrets.learn_all(userinfo_forms(rest[:at]))
                url = f"{scheme}://{REDACTED}@{rest[at + 1 :]}"
        head, mark, query = url.partition("?")
        if not mark:
            return url
        query, hash_mark, fragment = query.partition("#")
        redacted = self._pairs(query)
        if redacted is query:
            return url
        return f"{head}?{redacted}{hash_mark}{fragment}"

    def _pairs(self, query: str) -> str:
        """``a=1&key=s`` with secret values replaced, the rest byte for byte as it was."""
        parts = query.split("&")
        changed = False
        for i, part in enumerate(parts):
            name, eq, value = part.partition("=")
            if eq and value != REDACTED and self.rules.secret_parameter(unquote_plus(name)):
                self.secrets.learn(unquote_plus(value))
                self.secrets.learn(value)
                parts[i] = f"{name}={REDACTED}"
                changed = True
        return "&".join(parts) if changed else query

    def _kind(self, name: str) -> int:
        """0 for an ordinary header, 1 for a secret one, 2 for Content-Type."""
        kind = 1 if self.rules.secret_header(name) else 2 if name.lower() == "content-type" else 0
        if len(self._kinds) < 4096:
            self._kinds[name] = kind
        return kind

    def _headers(self, headers: Headers) -> tuple[Headers, bool]:
        """Secret headers replaced (and learnt); also whether the body is a form."""
        kinds = self._kinds
        out: list[tuple[str, str]] | None = None
        form = False
        for i, (name, value) in enumerate(headers):
            kind = kinds.get(name)
            if kind is None:
                kind = self._kind(name)
            if kind == 1 and value != REDACTED:
                self.secrets.learn_credential(value)
                if out is None:
                    out = list(headers[:i])
                out.append((name, REDACTED))
                continue
            if kind == 2 and _FORM in value:
                form = True
            if out is not None:
                out.append((name, value))
        return (headers if out is None else tuple(out)), form

    def _scrub_headers(self, headers: Headers) -> Headers:
        if not self.secrets._text and not self._patterns:
            return headers
        joined = "\n".join([v for _, v in headers])
        if self.text(joined) is joined:  # the common case: one search, nothing found
            return headers
        return tuple((k, v if v == REDACTED else self.text(v)) for k, v in headers)

    def _body(self, body: bytes, form: bool) -> bytes:
        if form and body:
            try:
                text = body.decode("ascii")
            except UnicodeDecodeError:
                text = ""
            redacted = self._pairs(text) if text else text
            if redacted is not text:
                body = redacted.encode("ascii", "surrogateescape")
        if self.rules._paths and body[:1] in (b"{", b"["):
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if data is not None:
                body = json.dumps(
                    self._json_paths(data), ensure_ascii=False, separators=(",", ":")
                ).encode()
        return self.data(body) if body and (self.secrets._text or self._patterns) else body

    def request(self, info: RequestInfo) -> RequestInfo:
        """The request as it may be written to a cassette; the secrets in it are learnt
        before its other parts are searched for them."""
        headers, form = self._headers(info.headers)
        url = self._url(info.url)
        body = self._body(info.body, form)
        if self.secrets._text or self._patterns:
            url = self.text(url)
            headers = self._scrub_headers(headers)
        redacted = info
        if url is not info.url or headers is not info.headers or body is not info.body:
            redacted = RequestInfo(info.method, url, headers, body, info.client)
        for hook in self.rules.hooks:
            redacted = hook(redacted)
        return redacted

    def response_headers(self, headers: Headers) -> Headers:
        redacted, _ = self._headers(headers)
        return self._scrub_headers(redacted)
