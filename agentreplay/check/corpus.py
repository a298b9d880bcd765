"""Which cassettes a check replays, what each is expected to do, and which shard runs it.

An expectation is kept beside the cassettes, in ``expectations.json`` in
their directory (a map from file name to ``"reproduce"`` or ``"fixed"``),
so a corpus on a read-only disk or in object storage can still be marked,
and the marks are reviewed like any other change.
"""

from __future__ import annotations

import glob
import json
import os
import zlib
from pathlib import Path
from typing import Final

from agentreplay.capture.listing import local_copy
from agentreplay.capture.sinks import s3_client, split_s3
from agentreplay.errors import UsageError

__all__ = [
    "EXPECTATIONS",
    "EXPECTS",
    "find_cassettes",
    "read_expectations",
    "shard",
    "write_expectation",
]

EXPECTATIONS: Final = "expectations.json"
EXPECTS: Final = ("reproduce", "fixed")


def find_cassettes(paths: list[str]) -> list[Path]:
    """The cassettes named by ``paths`` (files, folders searched recursively, globs,
    ``s3://`` prefixes), each once, in a stable order."""
    found: dict[Path, None] = {}
    for given in paths:
        if given.startswith("s3://"):
            found.update(dict.fromkeys(_from_s3(given)))
            continue
        matches = [Path(p) for p in sorted(glob.glob(given, recursive=True))] or [Path(given)]
        for match in matches:
            if match.is_dir():
                found.update(dict.fromkeys(sorted(match.rglob("*.cassette"))))
            elif match.exists():
                found[match] = None
            else:
                raise UsageError(f"no such file or folder: {given}")
    return list(found)


def _from_s3(prefix: str) -> list[Path]:
    """The cassettes under an ``s3://bucket/prefix``, downloaded (once, into the cache
    `agentreplay.capture.listing.local_copy` keeps)."""
    bucket, key = split_s3(prefix)
    try:
        pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
        keys = sorted(
            item["Key"]
            for page in pages
            for item in page.get("Contents", ())
            if item["Key"].endswith(".cassette")
        )
    except UsageError:
        raise
    except Exception as exc:  # botocore's errors: credentials, network, no such bucket
        raise UsageError(f"cannot list {prefix}: {str(exc).splitlines()[0]}") from None
    if not keys:
        raise UsageError(f"no cassettes under {prefix}")
    return [local_copy(f"s3://{bucket}/{name}") for name in keys]


def shard(cassettes: list[Path], spec: str | None) -> list[Path]:
    """The cassettes of shard ``I/N``: each cassette falls in one shard, by a hash of its
    name, so the split does not move when the corpus grows or another machine runs it."""
    if spec is None:
        return cassettes
    index, slash, total = spec.partition("/")
    if not (slash and index.isdigit() and total.isdigit() and 1 <= int(index) <= int(total)):
        raise UsageError(f"--shard takes I/N with 1 <= I <= N, e.g. 2/8; not {spec!r}")
    i, n = int(index), int(total)
    return [c for c in cassettes if zlib.crc32(c.name.encode()) % n == i - 1]


def _expectations_file(cassette: Path) -> Path:
    return cassette.parent / EXPECTATIONS


def read_expectations(cassette: Path) -> str:
    """What ``cassette`` is expected to do: ``"reproduce"`` (the default) or ``"fixed"``."""
    path = _expectations_file(cassette)
    if not path.is_file():
        return "reproduce"
    try:
        marks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{path}: not a JSON map of cassette names to expectations ({exc})"
        ) from None
    expect = marks.get(cassette.name, "reproduce") if isinstance(marks, dict) else "reproduce"
    if expect not in EXPECTS:
        raise UsageError(f"{path}: {cassette.name} expects {expect!r}; expected one of {EXPECTS}")
    return str(expect)


def write_expectation(cassette: Path, expect: str) -> Path:
    """Mark ``cassette`` as expected to ``expect``; returns the file the mark is kept in."""
    if expect not in EXPECTS:
        raise UsageError(f"--expect is one of {', '.join(EXPECTS)}, not {expect!r}")
    if not cassette.is_file():
        raise UsageError(f"no such cassette: {cassette}")
    path = _expectations_file(cassette)
    marks: dict[str, str] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"{path} is not JSON ({exc}); fix or remove it") from None
        marks = dict(loaded) if isinstance(loaded, dict) else {}
    if expect == "reproduce":
        marks.pop(cassette.name, None)
    else:
        marks[cassette.name] = expect
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(marks, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
