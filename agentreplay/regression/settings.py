"""Which mode, strictness and pace a test's cassette runs with: command line > ini >
marker > default."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import pytest

from agentreplay.errors import UsageError

if TYPE_CHECKING:
    from agentreplay.session import Matcher, Redaction
    from agentreplay.session.matching import RequestInfo

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
            patterns=[p for r in self.redactions for p in r.patterns],
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
