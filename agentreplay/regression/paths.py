"""Where a test's cassette lives (``<test dir>/cassettes/<module>/<test name>.cassette``),
and the settings it runs with."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentreplay.errors import UsageError
from agentreplay.regression.settings import (
    _UNSAFE,
    DEFAULT_DIR,
    MARKER,
    MAX_NAME,
    CassetteMode,
    Choice,
    _bool,
    _check_pace,
    _marker_args,
    _pick,
)

# -- paths -------------------------------------------------------------------------


def _test_name(item: pytest.Item) -> str:
    """``test_x[param]``, or ``TestClass.test_x[param]`` inside classes."""
    names: list[str] = []
    node: Any = item
    while node is not None and not isinstance(node, pytest.Module):
        names.append(node.name)
        node = node.parent
    return ".".join(reversed(names))


def cassette_file_name(test_name: str) -> str:
    """A safe, unique file name for a test: characters outside ``[A-Za-z0-9_.-[]]``
    become ``_``; when any was replaced, or the name is longer than `MAX_NAME`, a short
    hash of the full name is appended so two tests never share a file."""
    safe = _UNSAFE.sub("_", test_name)
    suffix = ".cassette"
    if safe == test_name and len(safe) + len(suffix) <= MAX_NAME:
        return safe + suffix
    digest = hashlib.blake2b(test_name.encode(), digest_size=5).hexdigest()
    keep = MAX_NAME - len(suffix) - len(digest) - 1
    return f"{safe[:keep]}-{digest}{suffix}"


def cassette_path(
    test_file: Path, test_name: str, cassette_dir: str = DEFAULT_DIR, rootdir: Path | None = None
) -> Path:
    """``<test dir>/<cassette_dir>/<module>/<test name>.cassette``.

    A relative ``cassette_dir`` is relative to the test file's directory. Under an
    absolute one, ``<module>`` is the test file's path from the rootdir (without
    ``.py``), so equally named modules in different directories stay apart.
    """
    directory = Path(cassette_dir).expanduser()
    if directory.is_absolute():
        module = Path(test_file.stem)
        if rootdir is not None and test_file.is_relative_to(rootdir):
            module = test_file.relative_to(rootdir).with_suffix("")
        base = directory / module
    else:
        base = test_file.parent / directory / test_file.stem
    return base / cassette_file_name(test_name)


def uses_cassette(item: pytest.Item) -> bool:
    return "agent_cassette" in getattr(item, "fixturenames", ()) or (
        item.get_closest_marker(MARKER) is not None
    )


_SHARED = pytest.StashKey[dict[str, str]]()


def note_shared_paths(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember tests whose cassette path another collected test also has: recording
    either would overwrite the other's cassette."""
    first: dict[Path, str] = {}
    shared: dict[str, str] = {}
    for item in items:
        if not uses_cassette(item):
            continue
        try:
            path = _resolve(item).path.resolve()
        except UsageError:
            continue  # reported when the test runs
        if path in first:
            shared[item.nodeid] = first[path]
            shared.setdefault(first[path], item.nodeid)
        else:
            first[path] = item.nodeid
    config.stash[_SHARED] = shared


@dataclass(frozen=True)
class _Resolved:
    mode: Choice
    strict: Choice
    pace: Choice
    cassette_dir: Choice
    path: Path


def _resolve(item: pytest.Item) -> _Resolved:
    config = item.config
    marker = _marker_args(item)
    mode = _pick(
        CassetteMode.AUTO.value,
        (config.getoption("agentreplay_mode"), "--agentreplay-mode"),
        (config.getini("agentreplay_mode"), "ini agentreplay_mode"),
        (marker.get("mode"), "marker mode="),
    )
    strict = _pick(
        True,
        (config.getini("agentreplay_strict"), "ini agentreplay_strict"),
        (marker.get("strict"), "marker strict="),
    )
    pace = _pick(
        "instant",
        (config.getini("agentreplay_pace"), "ini agentreplay_pace"),
        (marker.get("pace"), "marker pace="),
    )
    directory = _pick(
        DEFAULT_DIR,
        (config.getoption("agentreplay_cassette_dir"), "--agentreplay-cassette-dir"),
        (config.getini("agentreplay_cassette_dir"), "ini agentreplay_cassette_dir"),
    )
    _check_pace(pace)
    test_file = Path(item.path)
    if marker.get("path"):
        path = test_file.parent / Path(os.fspath(marker["path"]))
    else:
        path = cassette_path(test_file, _test_name(item), str(directory.value), config.rootpath)
    return _Resolved(
        Choice(CassetteMode.parse(mode.value, mode.source), mode.source),
        Choice(_bool(strict.value, strict.source), strict.source),
        pace,
        directory,
        path,
    )
