"""Where kept runs go: a folder, or an S3-compatible object store.

A sink stores finished cassettes under keys ``{YYYY-MM-DD}/{time}-{run_id}.cassette``
and keeps, per day, a manifest of JSON lines (one per run) so that listing
never opens a cassette. A folder appends to ``{day}/manifest.jsonl``; an
object store cannot append, so each batch of runs adds one object
``{day}/manifest/{time}-{host}-{pid}-{n}.jsonl``. Readers take both forms.

Object storage goes through boto3: it is synchronous (the writer is one
background thread, so an async client would only add a loop), it reads
credentials from the standard chain (environment, shared config and
credentials files, SSO, instance and container roles) and the endpoint of
any S3-compatible store from ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``,
and its timeouts and retries can be bounded, which is what keeps a slow or
dead store from holding the writer. It is imported only when an ``s3://``
sink is used. Credentials are never written anywhere by agentreplay.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from agentreplay.errors import UsageError
from agentreplay.runtime import escape

__all__ = ["FolderSink", "S3Sink", "Sink", "open_sink", "split_s3"]

MANIFEST: Final = "manifest.jsonl"
CONNECT_TIMEOUT: Final = 5.0
READ_TIMEOUT: Final = 15.0
ATTEMPTS: Final = 3


class Sink(Protocol):
    """Stores finished cassettes and their manifest lines."""

    url: str

    def spool(self) -> Path:
        """A local folder to write a cassette in before `store` takes it."""
        ...

    def store(self, key: str, source: Path) -> None:
        """Put the finished cassette ``source`` at ``key``; ``source`` is gone after."""
        ...

    def add_manifest(self, day: str, lines: list[str]) -> None: ...

    def days(self) -> list[str]:
        """The days that have runs, as ``YYYY-MM-DD``."""
        ...

    def manifest(self, day: str) -> Iterator[dict[str, Any]]:
        """The manifest entries of ``day``."""
        ...


def _entries(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash: the others still count
        if isinstance(entry, dict):
            yield entry


def _is_day(name: str) -> bool:
    return len(name) == 10 and name[4] == "-" and name[7] == "-" and name.replace("-", "").isdigit()


class FolderSink:
    """A local (or mounted) folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def spool(self) -> Path:
        spool = self.root / ".spool"  # on the same filesystem: the final move is a rename
        spool.mkdir(parents=True, exist_ok=True)
        return spool

    def store(self, key: str, source: Path) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    def add_manifest(self, day: str, lines: list[str]) -> None:
        folder = self.root / day
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / MANIFEST, "a", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in lines))

    def days(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _is_day(p.name))

    def manifest(self, day: str) -> Iterator[dict[str, Any]]:
        path = self.root / day / MANIFEST
        if path.is_file():
            yield from _entries(path.read_text(encoding="utf-8", errors="replace"))

    def location(self, key: str) -> str:
        return str(self.root / key)


def split_s3(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix/`` -> (bucket, ``prefix/``)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise UsageError(f"an object store location looks like s3://bucket/prefix, not {url!r}")
    prefix = parts.path.lstrip("/")
    return parts.netloc, prefix


def s3_client() -> Any:
    """A boto3 S3 client with bounded timeouts and retries; credentials and endpoint
    from the standard chain."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise UsageError("s3:// locations need boto3: pip install 'agentreplay[s3]'") from None
    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"max_attempts": ATTEMPTS, "mode": "standard"},
    )
    return boto3.session.Session().client("s3", config=config)


class S3Sink:
    """An S3 bucket and prefix, on AWS or any S3-compatible store."""

    _batches = itertools.count(1)

    def __init__(self, url: str) -> None:
        self.bucket, prefix = split_s3(url)
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.url = f"s3://{self.bucket}/{self.prefix}"
        self._client: Any = None
        self._spool: Path | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def spool(self) -> Path:
        if self._spool is None or not self._spool.is_dir():
            self._spool = Path(tempfile.mkdtemp(prefix="agentreplay-capture-"))
        return self._spool

    def store(self, key: str, source: Path) -> None:
        try:
            self.client.upload_file(str(source), self.bucket, self.prefix + key)
        finally:
            source.unlink(missing_ok=True)

    def add_manifest(self, day: str, lines: list[str]) -> None:
        stamp = escape.time_ns()
        name = f"{stamp}-{socket.gethostname()}-{os.getpid()}-{next(self._batches)}.jsonl"
        body = "".join(line + "\n" for line in lines).encode()
        self.client.put_object(
            Bucket=self.bucket, Key=f"{self.prefix}{day}/manifest/{name}", Body=body
        )

    def _list(self, prefix: str, delimiter: str = "") -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        options = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            options["Delimiter"] = delimiter
        yield from paginator.paginate(**options)

    def days(self) -> list[str]:
        found = []
        for page in self._list(self.prefix, "/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(self.prefix) :].rstrip("/")
                if _is_day(name):
                    found.append(name)
        return sorted(found)

    def manifest(self, day: str) -> Iterator[dict[str, Any]]:
        for page in self._list(f"{self.prefix}{day}/manifest/"):
            for item in page.get("Contents", []):
                body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"]
                yield from _entries(body.read().decode("utf-8", errors="replace"))

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"


def open_sink(url: str) -> FolderSink | S3Sink:
    """The sink at ``url``: ``s3://bucket/prefix``, or a folder."""
    if url.startswith("s3://"):
        return S3Sink(url)
    if "://" in url:
        raise UsageError(f"capture writes to a folder or to s3://bucket/prefix, not {url!r}")
    return FolderSink(url)
