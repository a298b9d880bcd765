"""Regression cassettes for tests: everything behind the pytest plugin.

A test that uses the ``agent_cassette`` fixture (or the ``agentreplay`` marker)
runs inside a recording or a replay of its own cassette. This module decides
which (`CassetteMode`, resolved command line > ini > marker), where the
cassette lives (`cassette_path`), runs the session around the test
(`AgentCassette`), keeps replays off the network (`NetworkGuard`) and words
the failures. `agentreplay.pytest_plugin` only wires it into pytest.

Sessions are imported when a test first needs one, so a pytest run that never
uses a cassette does not load the cassette codecs.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import shlex
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from agentreplay.errors import CassetteError, DivergenceError, UsageError

if TYPE_CHECKING:
    from agentreplay.cassette.reader import Cassette
    from agentreplay.session import (
        Matcher,
        Mode,
        Recording,
        Redaction,
        Replay,
        ReplayResult,
        Session,
    )
    from agentreplay.session.matching import RequestInfo

__all__ = [
    "CASSETTE_KEY",
    "AgentCassette",
    "CassetteMode",
    "NetworkGuard",
    "Settings",
    "cassette_file_name",
    "cassette_for",
    "cassette_path",
    "check_ini",
    "note_shared_paths",
    "summary",
    "uses_cassette",
]

DEFAULT_DIR: Final = "cassettes"
MAX_NAME: Final = 120
"""Longest cassette file name, extension included."""
MARKER: Final = "agentreplay"
MARKER_ARGS: Final = ("path", "mode", "strict", "pace")
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.\-\[\]]")


class CassetteMode(StrEnum):
    """What a test does with its cassette (``--agentreplay-mode``)."""

    AUTO = "auto"
    """Replay the cassette if there is one, else record it. A cassette recorded
    from a failing test is recorded again."""
    RECORD = "record"
    """Record the test live. An existing cassette is an error (use ``rewrite``),
    unless it was recorded from a failing test."""
    REPLAY = "replay"
    """Replay the cassette with no network; a missing cassette is an error."""
    REWRITE = "rewrite"
    """Record the test live, replacing any cassette it has."""
    OFF = "off"
    """Do nothing: no cassette is read or written, the network is not blocked."""

    @classmethod
    def parse(cls, value: object, source: str) -> CassetteMode:
        try:
            return cls(str(getattr(value, "value", value)))
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise UsageError(
                f"unknown agentreplay mode {value!r} ({source}); expected one of: {choices}"
            ) from None


@dataclass
class Settings:
    """What the ``pytest_agentreplay_configure`` hook may change for one test.

    ``redactions`` start as ``[Redaction()]`` (the defaults); every entry
    applies. ``matchers`` start as ``[DefaultMatcher()]``; a recorded request
    matches when every matcher finds no difference, so replace the list (not
    append to it) to match more loosely. ``metadata`` goes into the cassette
    header next to the ``"pytest"`` entry the plugin writes.
    """

    nodeid: str
    redactions: list[Redaction] = field(default_factory=list)
    matchers: list[Matcher] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def redaction(self) -> Redaction:
        """All of ``redactions`` as one `Redaction`: whatever any of them redacts."""
        from agentreplay.session import Redaction

        if len(self.redactions) == 1:
            return self.redactions[0]
        described = [r.describe() for r in self.redactions]
        return Redaction(
            headers=sorted({h for d in described for h in d["headers"]}),
            query=sorted({q for d in described for q in d["query"]}),
            json_paths=[p for d in described for p in d["json_paths"]],
            hooks=[h for r in self.redactions for h in r.hooks],
            defaults=any(r.defaults for r in self.redactions),
        )

    def matcher(self) -> Matcher:
        if not self.matchers:
            raise UsageError(f"{self.nodeid}: settings.matchers is empty; keep at least one")
        return self.matchers[0] if len(self.matchers) == 1 else _AllMatchers(self.matchers)


class _AllMatchers:
    """Requests match when every matcher agrees; the differences are all of theirs."""

    def __init__(self, matchers: list[Matcher]) -> None:
        self.matchers = list(matchers)

    def diff(self, expected: RequestInfo, actual: RequestInfo) -> list[str]:
        return [line for m in self.matchers for line in m.diff(expected, actual)]


# -- settings: command line > ini > marker > default --------------------------------


@dataclass(frozen=True)
class Choice:
    """A resolved setting and where it came from (for messages)."""

    value: Any
    source: str


def _unset(value: object) -> bool:
    return value is None or value == "" or value == []  # older pytest: "" / [] when unset


def _pick(default: object, *layers: tuple[object, str]) -> Choice:
    for value, source in layers:
        if not _unset(value):
            return Choice(value, source)
    return Choice(default, "default")


def _marker_args(item: pytest.Item) -> dict[str, Any]:
    """The ``agentreplay`` marker's arguments; the closest marker wins per argument."""
    args: dict[str, Any] = {}
    for marker in item.iter_markers(MARKER):
        kwargs = dict(marker.kwargs)
        if marker.args:
            if len(marker.args) > 1 or "path" in kwargs:
                raise UsageError(
                    f"{item.nodeid}: @pytest.mark.agentreplay takes one "
                    f"positional argument (the path)"
                )
            kwargs["path"] = marker.args[0]
        unknown = sorted(set(kwargs) - set(MARKER_ARGS))
        if unknown:
            raise UsageError(
                f"{item.nodeid}: unknown @pytest.mark.agentreplay argument(s) "
                f"{', '.join(unknown)}; expected {', '.join(MARKER_ARGS)}"
            )
        for key, value in kwargs.items():
            args.setdefault(key, value)
    return args


def _bool(value: object, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"agentreplay strict must be true or false, not {value!r} ({source})")


def check_ini(config: pytest.Config) -> None:
    """Refuse bad ini values once, before any test runs, as pytest usage errors."""
    try:
        mode = config.getini("agentreplay_mode")
        if not _unset(mode):
            CassetteMode.parse(mode, "ini agentreplay_mode")
        pace = config.getini("agentreplay_pace")
        if not _unset(pace):
            _check_pace(Choice(pace, "ini agentreplay_pace"))
        strict = config.getini("agentreplay_strict")
        if not _unset(strict):
            _bool(strict, "ini agentreplay_strict")
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def _check_pace(pace: Choice) -> None:
    from agentreplay.session.core import parse_pace

    try:
        parse_pace(pace.value)
    except UsageError as exc:
        raise UsageError(f"{exc} ({pace.source})") from None


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


# -- running a test ------------------------------------------------------------------


CASSETTE_KEY = pytest.StashKey["AgentCassette"]()


def _display(path: Path, config: pytest.Config) -> str:
    try:
        return os.path.relpath(path, config.invocation_params.dir)
    except ValueError:  # another drive on Windows
        return str(path)


def _recorded_from_failure(path: Path) -> bool:
    from agentreplay.cassette.reader import open_cassette

    try:
        with open_cassette(path) as cassette:
            outcome = cassette.outcome
    except CassetteError:
        return False  # replaying it reports the damage
    return (
        outcome is not None
        and outcome.error is not None
        and not outcome.error.type.endswith(".Skipped")
    )


def _one_line(text: str, limit: int = 200) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit and line == text else line[: limit - 3] + "..."


def _failing(error: BaseException | None) -> bool:
    return error is not None and not isinstance(error, pytest.skip.Exception)


def cassette_for(item: pytest.Item) -> AgentCassette:
    """The cassette of ``item``, with its settings resolved and its action decided."""
    try:
        resolved = _resolve(item)
    except UsageError as exc:
        pytest.fail(f"agentreplay: {exc}", pytrace=False)
    cassette = AgentCassette(item, resolved)
    item.stash[CASSETTE_KEY] = cassette
    return cassette


class AgentCassette:
    """One test's cassette: what the ``agent_cassette`` fixture returns.

    ``path`` is the cassette file; ``mode`` what this test does with it
    (`agentreplay.Mode` RECORD, REPLAY or OFF) and ``requested`` the
    `CassetteMode` that led there; ``reason`` says why. ``session`` is the
    running `Recording` or `Replay`; after the test, ``result`` is the replay's
    `ReplayResult`. ``open()`` reads the cassette (while recording, once the
    test is over).
    """

    def __init__(self, item: pytest.Item, resolved: _Resolved) -> None:
        from agentreplay.session import Mode

        self.item = item
        self.path = resolved.path
        self.requested: CassetteMode = resolved.mode.value
        self.source = resolved.mode.source
        self.strict: bool = resolved.strict.value
        self.pace: str | float = resolved.pace.value
        self.cassette_dir: Choice = resolved.cassette_dir
        self.settings = Settings(item.nodeid)
        self.session: Recording | Replay | None = None
        self.mode: Mode = Mode.OFF
        self.reason = "nothing to do"
        self.replaces = False
        self._error: BaseException | None = None
        self._guard: NetworkGuard | None = None
        self.summary = ""

    def __repr__(self) -> str:
        return f"<AgentCassette {str(self.path)!r} {self.mode.value} ({self.reason})>"

    @property
    def display_path(self) -> str:
        return _display(self.path, self.item.config)

    @property
    def tmp_path(self) -> Path:
        return self.path.with_name(self.path.name + ".tmp")

    @property
    def result(self) -> ReplayResult | None:
        return getattr(self.session, "result", None)

    def open(self) -> Cassette:
        from agentreplay.cassette.reader import open_cassette

        return open_cassette(self.path)

    # -- deciding ----------------------------------------------------------------
    def _decide(self) -> None:
        from agentreplay.session import Mode

        requested, exists = self.requested, self.path.exists()
        failed = (
            exists
            and requested in (CassetteMode.AUTO, CassetteMode.RECORD)
            and (_recorded_from_failure(self.path))
        )
        if requested is CassetteMode.OFF:
            self.mode, self.reason = Mode.OFF, "nothing to do"
        elif requested is CassetteMode.REPLAY or (
            requested is CassetteMode.AUTO and exists and not failed
        ):
            if not exists:
                pytest.fail(self._missing_message(), pytrace=False)
            self.mode, self.reason = Mode.REPLAY, "the cassette exists"
        elif requested is CassetteMode.RECORD and exists and not failed:
            pytest.fail(
                f"agentreplay: {self.display_path} already exists and "
                f"--agentreplay-mode=record only writes new cassettes.\n"
                f"Replace it with --agentreplay-mode=rewrite.",
                pytrace=False,
            )
        else:
            self.mode, self.replaces = Mode.RECORD, exists
            self.reason = (
                "the previous recording came from a failing test"
                if failed
                else "mode rewrite"
                if exists
                else "no cassette yet"
            )
        shared = self.item.config.stash.get(_SHARED, {}).get(self.item.nodeid)
        if shared is not None and self.mode is Mode.RECORD:
            pytest.fail(
                f"agentreplay: {self.display_path} is also the cassette of {shared}; "
                f"give each test its own @pytest.mark.agentreplay(path=...)",
                pytrace=False,
            )

    def _missing_message(self) -> str:
        config = self.item.config
        nodeid = self.item.nodeid
        target = _display(Path(self.item.path), config) + nodeid[nodeid.find("::") :]
        command = ["pytest", target, "--agentreplay-mode=record"]
        if self.cassette_dir.source.startswith("--"):
            command.append(f"--agentreplay-cassette-dir={self.cassette_dir.value}")
        return (
            f"agentreplay: no cassette for this test at {self.display_path} "
            f"(mode replay, from {self.source}).\n"
            f"Record it with:\n    {shlex.join(command)}"
        )

    # -- the run -----------------------------------------------------------------
    def start(self) -> AgentCassette:
        """Decide, ask the configure hook, and start recording or replaying."""
        from agentreplay.session import DefaultMatcher, Mode, Redaction, record, replay

        self._decide()
        if self.mode is Mode.OFF:
            return self
        self.settings.redactions.append(Redaction())
        self.settings.matchers.append(DefaultMatcher())
        self.item.ihook.pytest_agentreplay_configure(
            config=self.item.config, settings=self.settings
        )
        if self.mode is Mode.RECORD:
            self.tmp_path.unlink(missing_ok=True)
            metadata = {
                **self.settings.metadata,
                "pytest": {
                    "nodeid": self.item.nodeid,
                    "mode": self.requested.value,
                    "reason": self.reason,
                },
            }
            self.session = record(
                self.tmp_path, redact=self.settings.redaction(), metadata=metadata
            )
            self.session.start()
        else:
            self.session = replay(
                self.path,
                strict=self.strict,
                pace=self.pace,
                matcher=self.settings.matcher(),
                redact=self.settings.redaction(),
            )
            self.session.start()
            self._guard = NetworkGuard.push(self.session)
        return self

    def test_failed_early(self, exc: BaseException) -> None:
        """A fixture set up after this one raised: the run ends with its exception."""
        if self._error is None:
            self._error = exc

    def after_call(self, exc: BaseException | None) -> BaseException | None:
        """The test function ended (raising ``exc``, or not); the exception the test
        should fail with instead, if any: a divergence says what diverged and where."""
        self._error = exc
        divergence = getattr(self.session, "divergence", None)
        if divergence is None:
            return None
        if isinstance(exc, DivergenceError):
            text = str(divergence)
        elif exc is None:
            text = (
                "the test passed, but its replay diverged (the DivergenceError was "
                f"caught inside the test):\n{divergence}"
            )
        else:
            text = (
                f"the replay diverged, then the test failed with "
                f"{type(exc).__name__}: {exc}\n{divergence}"
            )
        return pytest.fail.Exception(text, pytrace=False)

    def finish(self) -> None:
        """Stop the session; a recording is renamed into place only now, complete."""
        from agentreplay.session import Mode

        session, error = self.session, self._error
        if session is None:
            return
        if self.mode is Mode.REPLAY:
            try:
                session.stop(error)
            finally:
                if self._guard is not None:
                    self._guard.pop(session)
            self.summary = f"replayed {self.display_path}: {_one_line(str(self.result))}"
        else:
            try:
                session.stop(error)
            except BaseException:
                self.tmp_path.unlink(missing_ok=True)
                raise
            os.replace(self.tmp_path, self.path)
            failed = "; the test failed, so mode auto records it again" if _failing(error) else ""
            verb = "re-recorded" if self.replaces else "recorded"
            self.summary = f"{verb} {self.display_path} ({self.reason}{failed})"
        self.item.user_properties.append(("agentreplay", self.summary))

    # -- reports -----------------------------------------------------------------
    def report_section(self) -> str:
        """Where the cassette is and how to look into it, for a failure report."""
        from agentreplay.session import Mode

        path = shlex.quote(self.display_path)
        run = "replayed" if self.mode is Mode.REPLAY else "recorded"
        run += f" (mode {self.requested.value}, from {self.source})"
        if self.mode is Mode.RECORD and _failing(self._error):
            run += "; the test failed, so mode auto records it again next time"
        lines = [f"cassette: {self.display_path}", f"run:      {run}"]
        if self.result is not None:
            lines.append(f"result:   {_one_line(str(self.result))}")
        lines += [f"inspect:  agentreplay show {path}", f"          agentreplay tui {path}"]
        return "\n".join(lines)


def summary(reports: Iterable[object]) -> list[str]:
    """The end-of-run lines: every cassette written, and replays that did not reproduce
    their recording; from the teardown reports (which xdist workers send too)."""
    lines: list[str] = []
    replayed = 0
    for report in reports:
        if getattr(report, "when", None) != "teardown":
            continue
        for name, value in getattr(report, "user_properties", ()):
            if name != "agentreplay":
                continue
            text = str(value)
            if text.startswith("replayed "):
                replayed += 1
                if ": reproduced" in text:
                    continue
            lines.append(text)
    if replayed:
        lines.append(f"{replayed} cassette{'s' if replayed > 1 else ''} replayed")
    return lines


# -- the network guard ---------------------------------------------------------------


def _is_local(family: int, address: object) -> bool:
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets and the like never leave the machine
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return True
    host = address[0].split("%", 1)[0].lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or ip.is_unspecified or bool(mapped and mapped.is_loopback)


class NetworkGuard:
    """Refuses socket connections to anything but loopback while a replay runs.

    HTTP through the intercepted clients is answered from the cassette anyway;
    this catches everything else (``urllib``, database drivers, raw sockets).
    A refused connection is a `DivergenceError` remembered by the replay.
    """

    _lock = threading.Lock()
    _active: NetworkGuard | None = None

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self._saved: dict[str, Any] = {}

    @classmethod
    def push(cls, session: Session) -> NetworkGuard:
        with cls._lock:
            guard = cls._active
            if guard is None:
                guard = cls._active = cls()
                guard._install()
            guard.sessions.append(session)
            return guard

    def pop(self, session: Session) -> None:
        with self._lock:
            if session in self.sessions:
                self.sessions.remove(session)
            if not self.sessions and NetworkGuard._active is self:
                self._uninstall()
                NetworkGuard._active = None

    def _install(self) -> None:
        for name in ("connect", "connect_ex"):
            self._saved[name] = vars(socket.socket).get(name)
            live = getattr(socket.socket, name)
            setattr(socket.socket, name, self._guarded(live))

    def _uninstall(self) -> None:
        for name, original in self._saved.items():
            if original is None:
                delattr(socket.socket, name)
            else:
                setattr(socket.socket, name, original)
        self._saved.clear()

    def _guarded(self, live: Any) -> Any:
        def guarded(sock: socket.socket, address: Any) -> Any:
            if not _is_local(sock.family, address):
                raise self._refuse(address)
            return live(sock, address)

        return guarded

    def _refuse(self, address: tuple[Any, ...]) -> DivergenceError:
        from agentreplay.session.callers import agent_call_site
        from agentreplay.session.tasks import current_task

        task = current_task()
        host = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
        error = DivergenceError(
            "a live network connection was attempted during replay",
            step=None,
            task=task.id if task is not None else "-",
            expected="no network access (replay answers only from the cassette)",
            actual=f"socket connect to {host}:{address[1] if len(address) > 1 else '?'}",
            call_site=agent_call_site(3),
        )
        session = self.sessions[-1] if self.sessions else None
        return session.diverge(error) if session is not None else error
