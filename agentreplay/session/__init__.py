"""Sessions: a run being recorded or replayed, and what they share.

`Recording` and `Replay` are the two kinds; `agentreplay.record()` and
`agentreplay.replay()` (in `agentreplay.api`) make them.
"""

from __future__ import annotations

from agentreplay.session.core import Mode, Session
from agentreplay.session.matching import DefaultMatcher, Matcher
from agentreplay.session.outcome import ReplayResult
from agentreplay.session.policy import PlainReplay, ReplayPolicy
from agentreplay.session.recording import Recording
from agentreplay.session.redaction import Redaction
from agentreplay.session.replaying import Replay

__all__ = [
    "DefaultMatcher",
    "Matcher",
    "Mode",
    "PlainReplay",
    "Recording",
    "Redaction",
    "Replay",
    "ReplayPolicy",
    "ReplayResult",
    "Session",
]
