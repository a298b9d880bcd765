"""Logical tasks: executor jobs are counted per session."""

from __future__ import annotations

from agentreplay.runtime.tasks import forget_jobs, job_done, job_started, jobs_in_flight


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


def test_an_ended_session_leaves_no_count_behind_even_with_jobs_unheard_of() -> None:
    ended = object()
    job_started(ended)
    forget_jobs(ended)
    assert jobs_in_flight(ended) == 0
    job_done(ended)  # the job's end, heard after all: never below nothing
    assert jobs_in_flight(ended) == 0
