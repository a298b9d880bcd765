"""The verdict of a replay, as the user reads it."""

from __future__ import annotations

from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.session.outcome import ExitStatus, compare_outcomes


def _verdict(recorded_error: ErrorInfo | None, error: ErrorInfo | None, what_if: str) -> str:
    recorded = RunOutcome(
        "0", 9, 100, None, "'done'" if recorded_error is None else "", recorded_error
    )
    result = compare_outcomes(
        recorded,
        3,
        error,
        "'other'" if error is None else "",
        error is None,
        step=3,
        divergence=None,
        unused_calls=0,
        what_if=what_if,
    )
    return str(result)


def test_a_what_if_run_says_raised_for_an_exception_on_either_side() -> None:
    boom = ErrorInfo("openai.InternalServerError", "Error code: 500", "", ["Error code: 500"])
    key = ErrorInfo("KeyError", "'order'", "", ["order"])
    assert _verdict(key, boom, "step 1 overridden") == (
        "what-if (step 1 overridden): the run raised InternalServerError('Error code: 500'); "
        "the recording: raised KeyError('order')"
    )
    assert _verdict(None, None, "step 1 overridden") == (
        "what-if (step 1 overridden): the run returned 'other'; the recording: returned 'done'"
    )


def test_a_reproduced_failure_names_the_exception_and_the_step() -> None:
    key = ErrorInfo("KeyError", "'order'", "", ["order"])
    assert _verdict(key, key, "") == "reproduced: KeyError('order') at step 3"


def test_a_scripts_exit_status_reads_as_one() -> None:
    assert repr(ExitStatus(3)) == "exit status 3" and ExitStatus(3) == 3
