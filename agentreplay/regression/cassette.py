"""One test's cassette: deciding, starting and stopping its session, and the reports."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from agentreplay.errors import CassetteError, DivergenceError, UsageError
from agentreplay.regression.divergence import divergence_text
from agentreplay.regression.paths import _SHARED, _resolve, _Resolved
from agentreplay.regression.settings import CassetteMode, Choice, Settings
from agentreplay.session.environment import PLACEHOLDER, PLACEHOLDER_KEYS, set_placeholder_keys

if TYPE_CHECKING:
    from agentreplay.session import Mode, Recording, Replay, ReplayResult
    from agentreplay.steps import Cassette

CASSETTE_KEY = pytest.StashKey["AgentCassette"]()


def _display(path: Path, config: pytest.Config) -> str:
    try:
        return os.path.relpath(path, config.invocation_params.dir)
    except ValueError:  # another drive on Windows
        return str(path)


def _recorded_from_failure(path: Path) -> bool:
    from agentreplay.cassette.reader import open_reader

    try:
        with open_reader(path) as cassette:
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


_CONNECTION_ERRORS = frozenset(
    {"ConnectError", "ConnectTimeout", "APIConnectionError", "ClientConnectorError"}
)


def _connection_failure(error: BaseException | None) -> str | None:
    """The connection error behind ``error`` (a server that was not there), if any."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionError) or type(error).__name__ in _CONNECTION_ERRORS:
            return f"{type(error).__name__}: {error}"
        error = error.__cause__ or error.__context__
    return None


def _answered(path: Path) -> bool:
    """The cassette holds answered HTTP exchanges and a run that did not fail to connect."""
    from agentreplay.cassette.events import HttpResponse
    from agentreplay.cassette.reader import open_reader

    try:
        with open_reader(path) as cassette:
            outcome = cassette.outcome
            answered = any(isinstance(event, HttpResponse) for event in cassette.events())
    except CassetteError:
        return False
    error = outcome.error if outcome is not None else None
    return answered and not (
        error is not None and error.type.rsplit(".", 1)[-1] in _CONNECTION_ERRORS
    )


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
        self._ended: tuple[BaseException | None, Any, bool] | None = None  # see run_ended
        self._placeholders: list[str] = []  # SDK keys this replay set, taken away after
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
        from agentreplay.steps import open_cassette

        return open_cassette(self.path)

    # -- deciding ----------------------------------------------------------------
    def _decide(self) -> None:
        from agentreplay.session import Mode

        requested, exists = self.requested, self.path.exists()
        # A cassette recorded from a failing test is still replayed by auto (replay
        # never goes live unasked); record may replace it.
        failed = exists and requested is CassetteMode.RECORD and _recorded_from_failure(self.path)
        if requested is CassetteMode.OFF:
            self.mode, self.reason = Mode.OFF, "nothing to do"
        elif requested is CassetteMode.REPLAY or (requested is CassetteMode.AUTO and exists):
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
        from agentreplay.api import record, replay
        from agentreplay.session import DefaultMatcher, Mode, Redaction

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
            # The SDKs refuse to start without a key, and CI has none: any will do, as
            # the replay sends nothing. For this test only.
            self._placeholders = [name for name in PLACEHOLDER_KEYS if name not in os.environ]
            set_placeholder_keys(os.environ)
            self.session.start()
        return self

    def run_ended(self, error: BaseException | None = None, value: Any = None) -> None:
        """The agent's run ended with ``error``, or returned ``value``: for a test that
        catches what the run raised, or checks what it returned, as promoted tests do.
        The session then ends with that outcome, not with the test's own end, so the
        replay's verdict compares the run's outcome with the recording's. A script's
        ``SystemExit`` counts as its exit status."""
        from agentreplay.session.outcome import ExitStatus

        if isinstance(error, SystemExit):
            code = error.code if isinstance(error.code, int) else (0 if error.code is None else 1)
            self._ended = (error if code else None, ExitStatus(code), not code)
        else:
            self._ended = (error, value, error is None)

    def _stop(self, session: Recording | Replay, error: BaseException | None) -> None:
        if self._ended is None:
            session.stop(error)
        else:
            session.stop(*self._ended[:2], returned=self._ended[2])

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
        report = divergence_text(divergence)
        if isinstance(exc, DivergenceError):
            text = report
        elif exc is None:
            text = (
                "the test passed, but its replay diverged (the DivergenceError was "
                f"caught inside the test):\n{report}"
            )
        else:
            text = (
                f"the replay diverged, then the test failed with "
                f"{type(exc).__name__}: {exc}\n{report}"
            )
        return pytest.fail.Exception(text, pytrace=False)

    def finish(self) -> None:
        """Stop the session; a recording is renamed into place only now, complete."""
        from agentreplay.session import Mode

        session, error = self.session, self._error
        for name in self._placeholders:
            if os.environ.get(name) == PLACEHOLDER:
                del os.environ[name]
        self._placeholders = []
        if session is None:
            return
        if self.mode is Mode.REPLAY:
            self._stop(session, error)
            self.summary = f"replayed {self.display_path}: {_one_line(str(self.result))}"
        else:
            try:
                self._stop(session, error)
            except BaseException:
                self.tmp_path.unlink(missing_ok=True)
                raise
            refused = _connection_failure(error) if self.replaces else None
            if refused is not None and _answered(self.path):
                # A server that was down is no new behaviour to keep: auto would replay
                # the connection error forever.
                self.tmp_path.unlink(missing_ok=True)
                self.summary = (
                    f"kept {self.display_path}: the new recording failed to connect "
                    f"({_one_line(refused)}), and the kept cassette was answered; start "
                    f"the servers and record again"
                )
                self.item.user_properties.append(("agentreplay", self.summary))
                return
            os.replace(self.tmp_path, self.path)
            failed = (
                "; the test failed: auto will replay the failure, record will record it again"
                if _failing(error)
                else ""
            )
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
            run += (
                "; the test failed: auto replays this failure from now on, "
                "--agentreplay-mode=record records it again"
            )
        elif self.mode is Mode.REPLAY and _recorded_from_failure(self.path):
            run += "; recorded from a failing test: record it again with --agentreplay-mode=record"
        lines = [f"cassette: {self.display_path}", f"run:      {run}"]
        if self.result is not None:
            lines.append(f"result:   {_one_line(str(self.result))}")
        lines.append(f"inspect:  agentreplay show {path}")
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
