"""Reading a sink back: its runs from the manifests, and one cassette from a store.

`list_runs` reads only the per-day manifests (never a cassette), newest
first, filtered by outcome, age, name and slowness. `local_copy` turns an
``s3://`` cassette into a local file, downloaded once into a cache
(``$XDG_CACHE_HOME/agentreplay/s3/``, by default ``~/.cache``): captured
cassettes are never changed once written, so a cached copy stays good.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agentreplay.capture.sinks import open_sink, s3_client, split_s3
from agentreplay.errors import UsageError
from agentreplay.runtime import escape

__all__ = ["Filter", "list_runs", "local_copy", "parse_age"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float:
    """``90s``, ``15m``, ``2h``, ``3d``, ``1w`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if match is None:
        raise UsageError(f"--since takes an age such as 30m, 2h or 7d, not {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class Filter:
    failed: bool = False
    slow: bool = False
    name: str | None = None
    since: float | None = None  # seconds


def _matches(entry: dict[str, Any], where: Filter, oldest_ns: int | None) -> bool:
    if where.failed and not (entry.get("error") or (entry.get("status") or 0) >= 500):
        return False
    if where.slow and entry.get("kept") != "slow":
        return False
    if where.name is not None and where.name not in str(entry.get("name", "")):
        return False
    start = entry.get("start_ns")
    return oldest_ns is None or (isinstance(start, int) and start >= oldest_ns)


def list_runs(sink_url: str, where: Filter | None = None) -> list[dict[str, Any]]:
    """The runs kept in ``sink_url``, newest first; each entry gains ``location``."""
    where = where or Filter()
    sink = open_sink(sink_url)
    oldest_ns = None
    days = sink.days()
    if where.since is not None:
        oldest_ns = escape.time_ns() - int(where.since * 1e9)
        first = datetime.fromtimestamp(oldest_ns / 1e9, UTC) - timedelta(days=1)
        days = [day for day in days if day >= first.strftime("%Y-%m-%d")]
    found = []
    for day in days:
        for entry in sink.manifest(day):
            if _matches(entry, where, oldest_ns) and isinstance(entry.get("key"), str):
                entry["location"] = sink.location(entry["key"])
                found.append(entry)
    found.sort(key=lambda e: e.get("start_ns") or 0, reverse=True)
    return found


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "agentreplay" / "s3"


def local_copy(location: str) -> Path:
    """``location`` as a local path: itself, or an ``s3://`` object downloaded (once)."""
    if not location.startswith("s3://"):
        return Path(location)
    bucket, key = split_s3(location)
    if not key or key.endswith("/"):
        raise UsageError(f"{location} names a prefix, not a cassette")
    target = _cache_root() / bucket / key
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        s3_client().download_file(bucket, key, str(partial))
    except UsageError:
        raise
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot download {location}: {_short(exc)}") from None
    os.replace(partial, target)
    return target


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]
