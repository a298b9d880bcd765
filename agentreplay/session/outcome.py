"""Did a replay reproduce the recorded run?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from agentreplay.cassette.compare import same_error, same_text
from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.errors import DivergenceError

__all__ = ["ExitStatus", "ReplayResult", "compare_outcomes", "describe_outcome"]


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
    what_if: bool = False
    """The replay changed the run on purpose (overrides, going live): it cannot reproduce."""

    def __str__(self) -> str:
        return self.summary


class ExitStatus(int):
    """How a whole script ended: its outcome reads "exited with status N"."""

    def __repr__(self) -> str:
        return f"{_EXIT_STATUS}{int(self)}"


_EXIT_STATUS: Final = "exit status "


def describe_outcome(error: ErrorInfo | None, value_repr: str) -> str:
    if error is not None:
        return str(error)
    if value_repr.startswith(_EXIT_STATUS):
        return f"exited with status {value_repr.removeprefix(_EXIT_STATUS)}"
    return f"returned {value_repr}" if value_repr else "completed"


def _same(recorded: RunOutcome, error: ErrorInfo | None, value_repr: str, returned: bool) -> bool:
    """Same exception (`same_error`); same return value, memory addresses aside, when
    there is one to see (a ``with`` block has none, so only its ending without an
    exception counts)."""
    if recorded.error is not None and error is not None:
        return same_error(recorded.error, error)
    if recorded.error is not None or error is not None:
        return False
    return not returned or same_text(recorded.value_repr, value_repr)


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
    what_if: str = "",
    damaged: str = "",
    http_only: bool = False,
) -> ReplayResult:
    """The verdict. ``what_if`` names what the replay changed on purpose (it then reports
    how the changed run ended); ``damaged`` says the cassette could not be read whole;
    ``http_only``, that it was imported and has HTTP exchanges but no outcome."""
    replayed = describe_outcome(error, value_repr)

    def result(reproduced: bool, summary: str) -> ReplayResult:
        return ReplayResult(
            reproduced,
            summary,
            recorded,
            error,
            value_repr,
            step,
            divergence,
            unused_calls,
            bool(what_if),
        )

    if divergence is not None:
        if damaged:  # the likely cause, wherever the run parted from what could be read
            where = (
                "past what could be read"
                if divergence.step is None
                else f"at step {divergence.step}, where it ends"
            )
            return result(
                False,
                f"the cassette is damaged or truncated ({damaged}), and the replay diverged "
                f"{where}: {divergence.reason}",
            )
        if divergence.step is not None:
            return result(False, f"diverged at step {divergence.step}: {divergence.reason}")
        interrupted = (
            recorded is not None
            and recorded.error is not None
            and recorded.error.type.endswith(("KeyboardInterrupt", "SystemExit"))
        )
        if interrupted:
            assert recorded is not None and recorded.error is not None
            return result(
                False,
                f"the recorded run was stopped ({recorded.error}) after step "
                f"{recorded_step}; the replay went on past it",
            )
        return result(False, f"diverged at the end of the recording: {divergence.reason}")
    if recorded is None and http_only:
        live = "HTTP only: the clock and random numbers ran live"
        if unused_calls:
            unused = f"{unused_calls} imported HTTP exchanges were never asked for"
            return result(False, f"not reproduced: {unused} ({live}); the run {replayed}")
        return result(True, f"replayed the imported HTTP exchanges ({live}); the run {replayed}")
    if recorded is None:
        return result(
            False, f"the recording has no outcome (it was cut short); the replay {replayed}"
        )
    expected = describe_outcome(recorded.error, recorded.value_repr)
    if what_if:
        ran = f"raised {replayed}" if error is not None else replayed
        was = f"raised {expected}" if recorded.error is not None else expected
        return result(False, f"what-if ({what_if}): the run {ran}; the recording: {was}")
    if not _same(recorded, error, value_repr, returned):
        return result(False, f"not reproduced: recorded {expected}, replay {replayed}")
    if unused_calls:
        return result(
            False, f"not reproduced: {expected}, but {unused_calls} recorded calls were never made"
        )
    where = "before the first step"
    if recorded_step:  # an error is raised in the step it ends; a return comes after the last
        where = f"{'at' if recorded.error is not None else 'after'} step {recorded_step}"
    return result(True, f"reproduced: {expected} {where}")
