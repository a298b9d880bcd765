"""A wait for an answer the recording shows received holds a cancellation back until
the answer is handed out; the cancellation then comes at the program's next wait. An
executor job waiting for its turn does not count as working, until its turn comes."""

from __future__ import annotations

import asyncio
import threading
import time

import anyio

from agentreplay.errors import DivergenceError
from agentreplay.runtime.tasks import job_done, job_started, jobs_in_flight, set_running_job
from agentreplay.session.schedule import Schedule, sleep_until_received


def _after(delay: float) -> asyncio.Future[None]:
    """A future done ``delay`` seconds from now, as a recorded instant's arrival is."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    loop.call_later(delay, future.set_result, None)
    return future


def test_an_asyncio_timeout_that_falls_due_during_the_wait_comes_at_the_next_one() -> None:
    async def main() -> tuple[list[str], float, int]:
        loop = asyncio.get_running_loop()
        seen = []
        start = loop.time()
        try:
            async with asyncio.timeout(0.02):
                await sleep_until_received(_after(0.1))
                seen.append("received")
                await asyncio.sleep(0)
                seen.append("went on")
        except TimeoutError:
            seen.append("timed out")
        task = asyncio.current_task()
        assert task is not None
        return seen, loop.time() - start, task.cancelling()

    seen, waited, cancelling = asyncio.run(main())
    assert seen == ["received", "timed out"]
    assert waited >= 0.1
    assert cancelling == 0


def test_two_cancellations_held_back_are_both_made_again() -> None:
    async def main() -> tuple[int, list[str]]:
        seen = []
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, task.cancel, "first")
        loop.call_later(0.02, task.cancel, "second")
        await sleep_until_received(_after(0.05))
        seen.append("received")
        held = task.cancelling()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            seen.append("cancelled")
            task.uncancel()
            task.uncancel()
        return held, seen

    held, seen = asyncio.run(main())
    assert held == 2 and seen == ["received", "cancelled"]


def test_an_anyio_deadline_that_falls_due_during_the_wait_comes_at_the_next_one() -> None:
    async def main() -> tuple[list[str], bool, float]:
        seen = []
        start = anyio.current_time()
        with anyio.move_on_after(0.02) as scope:
            await sleep_until_received(_after(0.1))
            seen.append("received")
            await anyio.sleep(0)
            seen.append("went on")
        return seen, scope.cancelled_caught, anyio.current_time() - start

    seen, cancelled, waited = asyncio.run(main())
    assert seen == ["received"] and cancelled
    assert waited >= 0.1


def test_a_wait_nobody_cancels_ends_after_its_delay() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await sleep_until_received(_after(0.03))
        return loop.time() - start

    assert asyncio.run(main()) >= 0.03


def _count_reaches(owner: object, wanted: int) -> bool:
    deadline = time.monotonic() + 10
    while jobs_in_flight(owner) != wanted:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def _job_waiting(schedule: Schedule, owner: object, position: int) -> threading.Thread:
    """An executor job of ``owner`` (already counted as started) that waits for its turn."""

    def job() -> None:
        set_running_job(owner)
        try:
            schedule.wait(position, "the job")
        except DivergenceError:
            pass
        finally:
            set_running_job(None)

    thread = threading.Thread(target=job)
    thread.start()
    return thread


def test_a_job_waiting_for_its_turn_counts_as_working_again_the_moment_its_turn_comes() -> None:
    owner = object()
    schedule = Schedule(3, str)
    job_started(owner)
    thread = _job_waiting(schedule, owner, 2)
    try:
        assert _count_reaches(owner, 0)  # waiting: an event loop may move on
        schedule.deliver(0)
        assert jobs_in_flight(owner) == 0
        schedule.deliver(1)
        # Counted again by the delivery itself, before the job's thread has woken: a
        # loop with nothing ready must not jump its clock in that instant.
        assert jobs_in_flight(owner) == 1
        thread.join(10)
        assert not thread.is_alive()
        assert jobs_in_flight(owner) == 1  # waking does not count it twice
    finally:
        job_done(owner)
    assert jobs_in_flight(owner) == 0


def test_a_job_whose_wait_ends_without_its_turn_counts_as_working_again() -> None:
    released, timed_out = object(), object()
    for owner, schedule in ((released, Schedule(3, str)), (timed_out, Schedule(3, str, 0.05))):
        job_started(owner)
        thread = _job_waiting(schedule, owner, 2)
        if owner is released:
            assert _count_reaches(owner, 0)
            schedule.release()
        thread.join(10)
        assert not thread.is_alive()
        assert jobs_in_flight(owner) == 1
        job_done(owner)


def test_a_wait_behind_an_answer_nobody_will_ask_for_ends_at_once_naming_it() -> None:
    schedule = Schedule(3, str)  # the default timeout: 30 s
    returned: list[int | None] = []
    thread = threading.Thread(target=lambda: returned.append(schedule.wait(2, "the waiter")))
    thread.start()
    schedule.deliver(0)
    schedule.abandon(1)  # its task ended without it
    thread.join(10)
    assert not thread.is_alive()
    assert returned == [1]


def test_a_wait_before_an_abandoned_answer_is_not_ended() -> None:
    schedule = Schedule(3, str)
    schedule.abandon(2)
    schedule.deliver(0)
    assert schedule.wait(1, "the waiter") is None
