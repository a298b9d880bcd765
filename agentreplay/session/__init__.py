"""Sessions: a run being recorded or replayed, and what they share."""

from __future__ import annotations

import os
from typing import Any

from agentreplay.session.core import Mode, Session, active_session
from agentreplay.session.matching import DefaultMatcher, Matcher, RequestInfo
from agentreplay.session.outcome import ReplayResult
from agentreplay.session.recording import Recording
from agentreplay.session.redaction import Redaction
from agentreplay.session.replaying import Replay

__all__ = [
    "DefaultMatcher",
    "Matcher",
    "Mode",
    "Recording",
    "Redaction",
    "Replay",
    "ReplayResult",
    "RequestInfo",
    "Session",
    "active_session",
    "record",
    "replay",
]


def record(
    path: str | os.PathLike[str],
    *,
    redact: Redaction | None = None,
    metadata: dict[str, object] | None = None,
) -> Recording:
    """Record a run into the cassette at ``path``.

    Works as ``with record(path):``, ``async with record(path):``, and as a
    decorator of sync and async functions (whose return value is recorded as
    the run's outcome).
    """
    return Recording(path, redact=redact, metadata=metadata)


def replay(
    path: str | os.PathLike[str],
    *,
    strict: bool = True,
    matcher: Matcher | None = None,
    redact: Redaction | None = None,
    pace: str | float = "instant",
    live_after: int | None = None,
    overrides: dict[int, Any] | None = None,
    break_at: int | None = None,
    break_on_divergence: bool = False,
    fork_path: str | os.PathLike[str] | None = None,
) -> Replay:
    """Replay the run recorded at ``path``, with no network.

    Every HTTP call, clock read, random draw and tool call gets its recorded
    answer. A call that does not match the recording raises `DivergenceError`.
    ``pace`` is ``"instant"`` (default), ``"recorded"``, or a speed factor for
    streamed responses and sleeps. After the run, ``.result`` says whether it
    reproduced the recorded outcome.

    ``live_after=N`` forks the run: steps 1..N replay, then it goes live and is
    recorded into ``fork_path`` (default ``<name>.forkN.cassette``).
    ``overrides={N: value}`` replaces step N's response (an LLM answer, an HTTP
    response, or a tool's return value). ``break_at=N`` stops in pdb at the
    agent's line that issues step N; ``break_on_divergence`` where it diverges.
    """
    return Replay(
        path,
        strict=strict,
        matcher=matcher,
        redact=redact,
        pace=pace,
        live_after=live_after,
        overrides=overrides,
        break_at=break_at,
        break_on_divergence=break_on_divergence,
        fork_path=fork_path,
    )
