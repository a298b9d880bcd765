"""Which names hold secrets, and the secret values a run has met.

One list says which names are secret, for HTTP headers, query parameters,
form fields, environment variables and command-line options alike: a name
is secret when one of its words (split at ``-``, ``_``, ``.`` and camelCase
humps, compared in lower case) is in `SECRET_WORDS`, or it is in
`SECRET_NAMES`, and it is not in `NOT_SECRET`. ``X-Api-Key``, ``apiKey``,
``ACCESS_TOKEN``, ``Ocp-Apim-Subscription-Key`` and ``x-amz-signature`` are
all secret. To hide one more name, add its word or name here; docs/redaction.md
explains the guarantee that rests on this list.

A value found under a secret name is a secret the run has met: `Secrets`
remembers it, and every string recorded afterwards (error messages,
tracebacks, tool arguments and values, bodies) has it replaced by
``[REDACTED]``. So do the values of secret-named environment variables, from
the start of the run.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus

__all__ = [
    "MIN_SECRET",
    "NOT_SECRET",
    "REDACTED",
    "SECRET_NAMES",
    "SECRET_WORDS",
    "Secrets",
    "is_secret_name",
]

REDACTED: Final = "[REDACTED]"

SECRET_WORDS: Final = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "key",
        "passphrase",
        "passwd",
        "password",
        "pwd",
        "secret",
        "sig",
        "signature",
        "token",
    }
)
"""A name with one of these words in it is secret (``x-api-key``, ``DB_PASSWORD``)."""

SECRET_NAMES: Final = frozenset(
    {
        "access_token",  # the words already cover these; they are here to be read
        "api_key",
        "client_secret",
        "set_cookie",
        "proxy_authorization",
        "ocp_apim_subscription_key",
        "x_amz_security_token",
        "x_goog_api_key",
    }
)
"""Whole names that are secret, written in lower case with ``_`` for ``-``."""

NOT_SECRET: Final = frozenset({"idempotency_key", "sec_websocket_key"})
"""Names that match a secret word but hold no secret (a retry id, a handshake nonce)."""

MIN_SECRET: Final = 8
"""Values shorter than this are redacted where they were found but not searched for
elsewhere: a short value (``true``, a port number) would erase ordinary text."""

_HUMP = re.compile(r"([a-z0-9])([A-Z])")
_SPLIT = re.compile(r"[-_.\s]+")
_known: dict[str, bool] = {}


def is_secret_name(name: str) -> bool:
    """True if a header, parameter, field or variable of this name holds a secret."""
    known = _known.get(name)
    if known is not None:
        return known
    normal = _HUMP.sub(r"\1_\2", name).lower()
    flat = _SPLIT.sub("_", normal).strip("_")
    secret = flat not in NOT_SECRET and (
        flat in SECRET_NAMES or not SECRET_WORDS.isdisjoint(flat.split("_"))
    )
    if len(_known) < 4096:  # names repeat: headers, parameters; a cap keeps it bounded
        _known[name] = secret
    return secret


def _worth_searching(value: str) -> bool:
    """Long enough, and not plain words: searching for it elsewhere erases only it."""
    return len(value) >= MIN_SECRET and (
        len(value) >= 12 or any(c.isdigit() for c in value) or not value.isalpha()
    )


def credential_forms(value: str) -> list[str]:
    """The forms in which a secret header value may reappear: itself, the credential
    after an auth scheme (``Bearer sk-...``), a Basic pair decoded, cookie values."""
    forms = [value]
    scheme, _, rest = value.strip().partition(" ")
    if rest and scheme.isalpha():
        forms.append(rest.strip())
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                pair = ""
            if pair:
                forms.append(pair)
                forms.append(pair.partition(":")[2])
    if "=" in value:  # a cookie header: name=value; name=value
        for part in value.split(";"):
            forms.append(part.partition("=")[2].strip())
    return forms


class Secrets:
    """The secret values a run has met, and their removal from any string.

    Learning is rare (a value found under a secret name); scrubbing runs on
    every string recorded, so it starts with one check of an empty tuple.
    Copy-on-write tuples make both safe from any thread.
    """

    __slots__ = ("_data", "_met", "_text")

    def __init__(self) -> None:
        self._text: tuple[str, ...] = ()
        self._data: tuple[bytes, ...] = ()
        # Values learnt already: the same Authorization header comes with every request.
        self._met: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._text)

    def __len__(self) -> int:
        return len(self._text)

    def learn(self, value: str) -> None:
        """Remember ``value`` (and its URL-encoded forms) as a secret."""
        if value in self._met:
            return
        if _worth_searching(value):
            forms = {value, quote(value, safe=""), quote_plus(value, safe="")}
            new = forms.difference(self._text)
            if new:
                # Longest first, so that "Bearer sk-1" goes before "sk-1" would cut it.
                text = tuple(sorted({*self._text, *new}, key=len, reverse=True))
                self._data = tuple(t.encode("utf-8", "surrogatepass") for t in text)
                self._text = text
        if len(self._met) < 1024:
            self._met.add(value)

    def learn_credential(self, value: str) -> None:
        """Learn a secret header's value in every form it may reappear in."""
        if value not in self._met:
            self.learn_all(credential_forms(value))
            if len(self._met) < 1024:
                self._met.add(value)

    def learn_all(self, values: Iterable[str]) -> None:
        for value in values:
            self.learn(value)

    def learn_environment(self, environ: Mapping[str, str] = os.environ) -> None:
        """Learn the values of secret-named variables (``OPENAI_API_KEY``) and the
        passwords in URL-valued ones (``DATABASE_URL=postgres://u:pw@h/db``).

        Every run learns the process's environment as it starts: what that finds
        is kept for as long as the environment stays the same (compared whole,
        as stored), and only the checks for existing paths are made again."""
        if environ is not os.environ or self._text:
            self.learn_all(_environment_plan(environ).values())
            return
        plan = _environment_plan(environ)
        values = plan.values()
        learnt = plan.learnt.get(values)
        if learnt is None:
            fresh = Secrets()
            fresh.learn_all(values)
            learnt = (fresh._text, fresh._data)
            if len(plan.learnt) < 16:
                plan.learnt[values] = learnt
        self._text, self._data = learnt  # immutable tuples: safe to share

    def text(self, text: str) -> str:
        for secret in self._text:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def data(self, data: bytes) -> bytes:
        for secret in self._data:
            if secret in data:
                data = data.replace(secret, REDACTED.encode())
        return data


class _EnvironmentPlan:
    """What an environment holds to learn: values found whatever the file system says
    (``static``), and secret-named values that may be paths (``maybe_paths``: each
    with what to learn if it names an existing file, and the value itself otherwise)."""

    __slots__ = ("learnt", "maybe_paths", "static")

    def __init__(self, environ: Mapping[str, str]) -> None:
        static: list[str] = []
        maybe_paths: list[tuple[str, tuple[str, ...]]] = []
        for name, value in list(environ.items()):
            passwords = tuple(_url_passwords(value)) if "://" in value and "@" in value else ()
            if is_secret_name(name) and not _path_prefix(value):
                maybe_paths.append((value, passwords))
            else:
                static += passwords
        self.static = tuple(static)
        self.maybe_paths = tuple(maybe_paths)
        self.learnt: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[bytes, ...]]] = {}

    def values(self) -> tuple[str, ...]:
        """What to learn now."""
        values = self.static
        for value, passwords in self.maybe_paths:
            values += passwords if os.path.exists(value) else (value,)
        return values


_plan: tuple[dict[Any, Any], _EnvironmentPlan] | None = None


def _environment_plan(environ: Mapping[str, str]) -> _EnvironmentPlan:
    """The plan for ``environ``; for `os.environ`, made again only when it changed."""
    global _plan
    stored = getattr(environ, "_data", None) if environ is os.environ else None
    if not isinstance(stored, dict):
        return _EnvironmentPlan(environ)
    known = _plan
    if known is not None and known[0] == stored:
        return known[1]
    snapshot = dict(stored)
    plan = _EnvironmentPlan(environ)
    _plan = (snapshot, plan)
    return plan


def _path_prefix(value: str) -> bool:
    """Written as a file's path (``SSH_AUTH_SOCK``, ``GOOGLE_APPLICATION_CREDENTIALS``):
    it names where a secret is, and searching for it would erase paths everywhere.
    So would a value that names an existing file (checked on each use)."""
    return value.startswith(("/", "~", "./", "../"))


def _url_passwords(text: str) -> list[str]:
    """``user:password`` and ``password`` of every URL with credentials in ``text``."""
    found = []
    for match in _USERINFO.finditer(text):
        pair = match.group(1)
        found.append(pair)
        found.append(pair.partition(":")[2])
    return found


_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#@\s]+)@")


def userinfo_forms(userinfo: str) -> list[str]:
    """What to learn from a URL's ``user:password``."""
    return [userinfo, userinfo.partition(":")[2]]


def scrub_plain(value: Any, text: Any, data: Any) -> Any:
    """``value`` (plain data) with ``text`` applied to every str and ``data`` to every
    bytes, map keys included; the same object where nothing changed."""
    kind = type(value)
    if kind is str:
        return text(value)
    if kind is bytes:
        return data(value)
    if kind is list:
        items = [scrub_plain(item, text, data) for item in value]
        same = all(a is b for a, b in zip(items, value, strict=True))
        return value if same else items
    if kind is dict:
        pairs = [(scrub_plain(k, text, data), scrub_plain(v, text, data)) for k, v in value.items()]
        same = all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True))
        return value if same else dict(pairs)
    return value
