"""Did a replay reproduce the recorded run?"""

from __future__ import annotations

from dataclasses import dataclass

from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.errors import DivergenceError

__all__ = ["ReplayResult", "compare_outcomes", "describe_outcome"]


@dataclass(frozen=True)
class ReplayResult:
    """Whether a replay reproduced the recorded run, and how it ended."""

    reproduced: bool
    summary: str
    recorded: RunOutcome | None
    replayed_error: ErrorInfo | None
    replayed_value: str
    step: int
    divergence: DivergenceError | None
    unused_calls: int

    def __str__(self) -> str:
        return self.summary


def describe_outcome(error: ErrorInfo | None, value_repr: str) -> str:
    if error is not None:
        return str(error)
    return f"returned {value_repr}" if value_repr else "completed"


def _same(recorded: RunOutcome, error: ErrorInfo | None, value_repr: str, returned: bool) -> bool:
    """Same exception type and message; same return value when there is one to see (a
    ``with`` block has none, so only its ending without an exception counts)."""
    if (recorded.error is None) != (error is None):
        return False
    if error is not None:
        assert recorded.error is not None
        return error.type == recorded.error.type and error.message == recorded.error.message
    return not returned or recorded.value_repr == value_repr


def compare_outcomes(
    recorded: RunOutcome | None,
    recorded_step: int,
    error: ErrorInfo | None,
    value_repr: str,
    returned: bool,
    *,
    step: int,
    divergence: DivergenceError | None,
    unused_calls: int,
) -> ReplayResult:
    replayed = describe_outcome(error, value_repr)

    def result(reproduced: bool, summary: str) -> ReplayResult:
        return ReplayResult(
            reproduced, summary, recorded, error, value_repr, step, divergence, unused_calls
        )

    if divergence is not None:
        where = (
            f"step {divergence.step}" if divergence.step is not None else "the end of the recording"
        )
        return result(False, f"diverged at {where}: {divergence.reason}")
    if recorded is None:
        return result(
            False, f"the recording has no outcome (it was cut short); the replay {replayed}"
        )
    expected = describe_outcome(recorded.error, recorded.value_repr)
    if not _same(recorded, error, value_repr, returned):
        return result(False, f"not reproduced: recorded {expected}, replay {replayed}")
    if unused_calls:
        return result(
            False, f"not reproduced: {expected}, but {unused_calls} recorded calls were never made"
        )
    where = f"at step {recorded_step}" if recorded_step else "before the first step"
    return result(True, f"reproduced: {expected} {where}")
