"""A wait for an answer the recording shows received holds a cancellation back until
the answer is handed out; the cancellation then comes at the program's next wait."""

from __future__ import annotations

import asyncio

import anyio

from agentreplay.session.schedule import sleep_until_received


def test_an_asyncio_timeout_that_falls_due_during_the_wait_comes_at_the_next_one() -> None:
    async def main() -> tuple[list[str], float, int]:
        loop = asyncio.get_running_loop()
        seen = []
        start = loop.time()
        try:
            async with asyncio.timeout(0.02):
                await sleep_until_received(0.1)
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
        await sleep_until_received(0.05)
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
            await sleep_until_received(0.1)
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
        await sleep_until_received(0.03)
        return loop.time() - start

    assert asyncio.run(main()) >= 0.03
