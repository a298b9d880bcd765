"""Production capture: record every run in memory, keep the ones worth replaying.

Switch it on with the environment (``AGENTREPLAY_CAPTURE=runs/`` or
``s3://bucket/prefix``: every ``@agentreplay.entrypoint`` call becomes a run)
or from code::

    from agentreplay import capture

    capture.enable("runs/", keep="errors", sample=0.01, slow_after=30.0)
    app = capture.ASGIMiddleware(app)            # one run per HTTP request
    with capture.run(name="support", metadata={"user": uid}):   # or one block
        ...
    capture.flag("thumbs down")                  # keep the current run
    capture.stats()                              # what was kept, dropped, written

Each run is recorded into memory, isolated from the runs beside it; at its
end it is kept (it raised or answered 5xx, was flagged, was slow, fell in
the sample, or ``keep="all"``) and written by one background writer as a
complete cassette, or dropped with no I/O. Capture never raises into the
application: what fails is counted in `stats()` and logged at most once a
minute. ``agentreplay ls SINK`` lists what was kept; docs/capture.md says
how each kind of run replays.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

from agentreplay.capture import core
from agentreplay.capture.runs import CaptureRun
from agentreplay.capture.stats import CaptureStats
from agentreplay.runtime.scope import active_session
from agentreplay.session.redaction import Redaction

if TYPE_CHECKING:
    from agentreplay.capture.asgi import ASGIMiddleware

__all__ = [
    "ASGIMiddleware",
    "CaptureStats",
    "Run",
    "disable",
    "enable",
    "flag",
    "flush",
    "run",
    "stats",
]


def enable(
    sink: str,
    *,
    keep: str = "errors",
    sample: float = 0.0,
    slow_after: float | None = None,
    max_run_bytes: int | str = "16MB",
    max_queue_bytes: int | str = "64MB",
    redact: Redaction | None = None,
    max_age: float | None = None,
    max_total_bytes: int | str | None = None,
    flush_timeout: float = 5.0,
) -> None:
    """Capture runs from now on, into ``sink`` (a folder, or ``s3://bucket/prefix``).

    ``keep``: ``"errors"`` keeps the runs that raised, answered 5xx, were flagged,
    were slow or were sampled; ``"all"`` keeps every run. ``sample``: the fraction of
    the other runs to keep too (by a hash of the run id). ``slow_after``: seconds past
    which a run is kept. ``max_run_bytes``: what one run may hold in memory (past it,
    it is truncated: only its outcome is added). ``max_queue_bytes``: what may wait
    for the writer (past it, kept runs are dropped and counted). ``redact``: the
    `Redaction` rules (the default ones always apply unless ``defaults=False``;
    ``patterns=`` adds regular expressions for bodies). ``max_age`` (seconds) and
    ``max_total_bytes``: retention of a folder sink. ``flush_timeout``: how long
    exit and `disable` wait for queued runs.

    A bad setting raises `UsageError` here; nothing raises later.
    """
    settings = core.Settings(
        sink,
        keep=keep,
        sample=sample,
        slow_after=slow_after,
        max_run_bytes=max_run_bytes,  # type: ignore[arg-type]
        max_queue_bytes=max_queue_bytes,  # type: ignore[arg-type]
        redact=redact,
        max_age=max_age,
        max_total_bytes=max_total_bytes,  # type: ignore[arg-type]
        flush_timeout=flush_timeout,
    )
    core.enable(settings)


def disable(timeout: float | None = None) -> bool:
    """Stop capturing (what `enable` started); write what is queued first, waiting up
    to ``timeout`` seconds (default: ``flush_timeout``). True if all of it was written."""
    return core.disable(timeout)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every kept run so far is written, up to ``timeout`` seconds."""
    capture = core.current()
    return True if capture is None else capture.writer.flush(timeout)


def stats() -> CaptureStats:
    """Counts of what capture has done since it was enabled (all zero when off)."""
    capture = core.current()
    return CaptureStats() if capture is None else capture.stats()


def flag(reason: str = "flagged") -> bool:
    """Keep the current run, although it returns normally (a thumbs-down, a failed
    validation). False when the calling code is in no captured run."""
    session = active_session()
    if isinstance(session, CaptureRun) and session.running:
        session.flag(reason)
        return True
    return False


class Run:
    """One captured run around a block: ``with capture.run(name=...)`` or ``async with``.

    When capture is off, or the block already runs inside a recording or replay,
    it does nothing. Inside, `flag` and ``metadata`` (a dict, added to until the end)
    are at hand; after it, ``run_id`` and ``kept`` (the keep reason, or None).
    """

    def __init__(self, name: str, metadata: dict[str, Any] | None = None) -> None:
        self.name = name
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._run: CaptureRun | None = None

    @property
    def run_id(self) -> str | None:
        return None if self._run is None else self._run.run_id

    @property
    def captured(self) -> bool:
        """Whether this block is being (or was) captured."""
        return self._run is not None and self._run.memory is not None

    def flag(self, reason: str = "flagged") -> None:
        if self._run is not None:
            self._run.flag(reason)

    def __enter__(self) -> Run:
        try:
            self._run = core.new_run("run", self.name, self.metadata)
        except Exception:  # capture could not even be asked: run uncaptured
            self._run = None
        if self._run is not None:
            self._run.start()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self._run is not None:
            self._run.stop(exc)

    async def __aenter__(self) -> Run:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


def run(name: str = "run", metadata: dict[str, Any] | None = None) -> Run:
    """Capture the block as one run named ``name``, with ``metadata`` in its header and
    manifest line: ``with capture.run(name="support", metadata={...}):``."""
    return Run(name, metadata)


def __getattr__(name: str) -> Any:
    if name == "ASGIMiddleware":
        module: types.ModuleType = importlib.import_module("agentreplay.capture.asgi")
        value = module.ASGIMiddleware
        globals()[name] = value
        return value
    raise AttributeError(f"module 'agentreplay.capture' has no attribute {name!r}")
