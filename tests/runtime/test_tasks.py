"""Logical tasks: executor jobs are counted per session."""

from __future__ import annotations

from agentreplay.runtime.tasks import job_done, job_started, jobs_in_flight


def test_jobs_in_flight_are_counted_for_the_session_that_started_them() -> None:
    mine, theirs = object(), object()
    job_started(mine)
    job_started(mine)
    job_started(theirs)
    assert (jobs_in_flight(mine), jobs_in_flight(theirs)) == (2, 1)
    job_done(mine)
    job_done(theirs)
    assert (jobs_in_flight(mine), jobs_in_flight(theirs)) == (1, 0)
    job_done(mine)
    assert jobs_in_flight(mine) == 0
