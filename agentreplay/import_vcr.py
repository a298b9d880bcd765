"""Importing a vcrpy or pytest-recording cassette as an agentreplay cassette.

The file is read by vcrpy's own loader (its safe YAML loader or its JSON
serializer; a gzipped file is unpacked first), so whatever vcrpy can play,
this can import. Cassettes written by pydantic-ai's serializer, which keeps
JSON bodies as ``parsed_body`` instead of ``body``, are read too.

Each interaction becomes one HTTP exchange of the run's root task: request,
response head, the body as one chunk, end. vcrpy keeps no timing, so the
exchanges take no time (durations and time to first token show as zero).
The default redaction applies, as when recording: API keys and cookies a
vcrpy cassette kept are not carried over. The header says where the
cassette came from and that it holds HTTP only (``"recorded": ["http"]``):
replaying it hands back the exchanges, in any order and to any task as
vcrpy did, and lets the clock and random numbers run live.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentreplay.cassette.events import HttpChunk, HttpEnd, HttpRequest, HttpResponse
from agentreplay.cassette.writer import CassetteWriter
from agentreplay.errors import CassetteError, UsageError
from agentreplay.runtime.contract import RequestInfo
from agentreplay.session.recording import base_header
from agentreplay.session.redaction import Redaction

__all__ = ["HTTP_ONLY", "ImportedCassette", "import_vcr"]

HTTP_ONLY = ["http"]
"""The header's ``recorded`` of a cassette that holds HTTP exchanges and nothing else."""

_TASK = "0"
_CLIENT = "vcrpy"
_GZIP_MAGIC = b"\x1f\x8b"
# No deflate, brotli or zstd stream starts like JSON, XML, HTML or SSE text does.
_TEXT_START = re.compile(rb"\s*(?:[{\[<\"]|data:|event:)")


@dataclass(frozen=True)
class ImportedCassette:
    """What `import_vcr` wrote."""

    path: Path
    interactions: int
    serializer: str


class _ParsedBodies:
    """A vcrpy serializer that also reads ``parsed_body`` (pydantic-ai's cassettes)."""

    def __init__(self, base: Any) -> None:
        self._base = base

    def deserialize(self, text: str) -> Any:
        data = self._base.deserialize(text)
        for interaction in data.get("interactions") or [] if isinstance(data, dict) else []:
            for kind, part in interaction.items() if isinstance(interaction, dict) else []:
                if isinstance(part, dict) and "parsed_body" in part:
                    body = json.dumps(part.pop("parsed_body"))
                    part["body"] = {"string": body} if kind == "response" else body
        return data


def _serializer(path: Path, text: str, name: str | None) -> tuple[str, Any]:
    from vcr.serializers import jsonserializer, yamlserializer

    if name is None:
        suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
        name = "json" if suffixes[-1:] == [".json"] or text.lstrip()[:1] == "{" else "yaml"
    serializers = {"yaml": yamlserializer, "json": jsonserializer}
    if name not in serializers:
        raise UsageError(f"unknown serializer {name!r}: vcrpy's are yaml and json")
    return name, _ParsedBodies(serializers[name])


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise CassetteError(f"not a gzip file that unpacks ({exc})", path=str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError(
            "not a vcrpy cassette: not UTF-8 text", offset=exc.start, path=str(path)
        ) from None


def _load(path: Path, serializer: str | None) -> tuple[str, list[Any], list[Any]]:
    try:
        from vcr.serialize import deserialize
    except ImportError:
        raise UsageError("import-vcr reads cassettes with vcrpy: pip install vcrpy") from None
    text = _read_text(path)
    name, reader = _serializer(path, text, serializer)
    try:
        loaded = deserialize(text, reader)
    except Exception as exc:  # YAML and JSON errors, and vcrpy's own ValueErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CassetteError(f"not a vcrpy cassette ({first})", path=str(path)) from None
    requests, responses = loaded[0], loaded[1]
    return name, list(requests), list(responses)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _request_headers(request: Any) -> tuple[tuple[str, str], ...]:
    headers = []
    for name, value in request.headers.items():
        values = value if isinstance(value, list | tuple) else [value]
        headers += [(_text(name), _text(v)) for v in values]
    return tuple(headers)


def _request_body(request: Any) -> bytes:
    body = getattr(request, "body_bytes", None)
    if body is None:
        body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    return body if isinstance(body, bytes) else b""


def _response_parts(response: Any) -> tuple[int, str, list[tuple[str, str]], bytes]:
    if not isinstance(response, dict):
        raise ValueError("a response is not a mapping")
    status = response.get("status") or {}
    code = status.get("code")
    if not isinstance(code, int) or not 100 <= code <= 599:
        raise ValueError(f"a response has no status code: {status!r}")
    headers = []
    for name, value in (response.get("headers") or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        headers += [(_text(name), _text(v)) for v in values]
    body = (response.get("body") or {}).get("string")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return code, _text(status.get("message") or ""), headers, body or b""


def _plain_body(encoding: str, body: bytes) -> bool:
    """Whether ``body`` was stored already decoded although the headers name ``encoding``
    (some serializers decompress bodies for people to read)."""
    if not body:
        return False
    if encoding in ("gzip", "x-gzip"):
        return not body.startswith(_GZIP_MAGIC)
    if not _TEXT_START.match(body):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _consistent(headers: list[tuple[str, str]], body: bytes) -> tuple[tuple[str, str], ...]:
    """The headers, fixed where a serializer changed the body without them: a
    decompressed body loses its ``content-encoding``, a rewritten one its length."""
    encodings = [v.strip().lower() for k, v in headers if k.lower() == "content-encoding"]
    decoded = any(_plain_body(e, body) for e in encodings)
    fixed = []
    for name, value in headers:
        lower = name.lower()
        if lower == "content-encoding" and decoded:
            continue
        if lower == "content-length" and value.strip() != str(len(body)):
            value = str(len(body))
        fixed.append((name, value))
    return tuple(fixed)


def _events(requests: list[Any], responses: list[Any], redaction: Redaction) -> Iterator[Any]:
    seq = 0
    for number, (request, response) in enumerate(zip(requests, responses, strict=True), 1):
        at = number  # in nanoseconds: keeps the exchanges in order, and their durations zero
        try:
            status, reason, raw_headers, body = _response_parts(response)
            info = RequestInfo(
                _text(request.method).upper(),
                _text(request.uri),
                _request_headers(request),
                _request_body(request),
                _CLIENT,
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise CassetteError(f"interaction {number} cannot be read: {exc}") from None
        sent = redaction.request(info)
        headers = redaction.response_headers(_consistent(raw_headers, body))
        request_seq = seq
        yield HttpRequest(_TASK, seq, at, sent.method, sent.url, sent.headers, sent.body, _CLIENT)
        yield HttpResponse(_TASK, seq + 1, at, request_seq, status, headers, "HTTP/1.1", reason)
        seq += 2
        if body:
            yield HttpChunk(_TASK, seq, at, request_seq, body)
            seq += 1
        yield HttpEnd(_TASK, seq, at, request_seq, True)
        seq += 1


def import_vcr(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    serializer: str | None = None,
    redact: Redaction | None = None,
) -> ImportedCassette:
    """Write the vcrpy cassette ``source`` as the agentreplay cassette ``target``.

    ``serializer`` is ``"yaml"`` or ``"json"``; by default the file's name or
    first character decides. Raises `UsageError` for a missing file and
    `CassetteError` for one vcrpy cannot read.
    """
    source, target = Path(source), Path(target)
    name, requests, responses = _load(source, serializer)
    redaction = redact if redact is not None else Redaction()
    imported = {"from": "vcrpy", "file": str(source), "serializer": name}
    extra = {"recorded": HTTP_ONLY, "imported": imported, "argv": [], "cwd": None}
    header = base_header("import", redaction, None, extra)
    partial = target.with_name(target.name + ".partial")
    writer = CassetteWriter(partial, header)
    try:
        for event in _events(requests, responses, redaction):
            writer.append(event)
    except CassetteError as exc:
        writer.abandon()
        partial.unlink(missing_ok=True)
        raise CassetteError(exc.detail, path=str(source)) from None
    writer.close()
    partial.replace(target)
    return ImportedCassette(target, len(requests), name)
