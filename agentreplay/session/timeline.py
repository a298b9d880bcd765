"""An event loop's tie to the recorded timeline, and the waits that fall due on it.

A replayed loop hands each answer, chunk and body end out at the virtual instant
its recording had it. The tie (the loop's clock at the recording's instant 0)
moves when the replay re-ties the two at a request (ordering.py `_delay`): the
waits already scheduled move with it, so that what fell due in one order on
the recorded timeline falls due in that order here, whichever was scheduled
before the move. Without that, a wait scheduled before it would come late by
the move, behind waits scheduled after it for later instants: another task
would then take work from a shared queue before the one that took it.
"""

from __future__ import annotations

import asyncio

__all__ = ["Timeline"]


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Timeline:
    """One loop's tie: ``base`` is its clock (virtual seconds) at recorded instant 0."""

    __slots__ = ("base", "loop", "waits")

    def __init__(self, loop: asyncio.AbstractEventLoop, base: float) -> None:
        self.loop = loop
        self.base = base
        self.waits: dict[asyncio.Future[None], tuple[int, asyncio.TimerHandle]] = {}

    def delay(self, at: int) -> float:
        """Virtual seconds from now until the recorded instant ``at`` (ns)."""
        return self.base + at / 1e9 - self.loop.time()

    def until(self, at: int) -> asyncio.Future[None]:
        """A future that is done when the loop's clock reaches ``at`` on this timeline,
        wherever it is tied by then."""
        future: asyncio.Future[None] = self.loop.create_future()
        self._schedule(future, at)
        future.add_done_callback(self._forget)
        return future

    def retie(self, base: float) -> None:
        """Tie the timeline again at ``base``; every pending wait moves with it."""
        self.base = base
        for future, (at, handle) in list(self.waits.items()):
            handle.cancel()
            self._schedule(future, at)

    def _schedule(self, future: asyncio.Future[None], at: int) -> None:
        handle = self.loop.call_at(self.base + at / 1e9, _resolve, future)
        self.waits[future] = (at, handle)

    def _forget(self, future: asyncio.Future[None]) -> None:
        entry = self.waits.pop(future, None)
        if entry is not None:  # cancelled with its task: its timer goes too
            entry[1].cancel()
