"""Replaying time and order: the recorded order of answers, and when they are due.

Each logical task gets its own answers whatever the scheduler does. What the
scheduler decides is *when* each arrives, and programs look at that too: the
first of three hedged requests to answer wins, ``as_completed`` yields in
completion order, a deadline fires before a slow response. Replay reproduces
it in two ways:

- **Threads take turns.** Every answer (an HTTP response, a clock read, a
  random draw, a tool result) and every ordering point (an executor job
  ending, an item going through a shared ``queue.Queue``) has its position in
  the recorded order. A thread that asks for the answer at position ``p``
  waits until every answer before ``p`` has been handed out, as rr serialises
  threads, so threads see the recorded interleaving. A wait that lasts longer
  than ``timeout`` seconds is a divergence naming who waited for what; a wait
  for an answer nobody can ask for any more (its task ended without it:
  `abandon`) ends at once.
- **Event loops run in virtual time.** An asyncio answer is due its recorded
  latency after it was asked for (the loop's clock jumps instead of waiting),
  and among answers pending at the same time, the one recorded first is
  handed out first. A loop's own code takes no virtual time, so a response
  that beat a deadline when recorded beats it on replay, and a request the
  program itself cancelled (a deadline, the loser of a race) is held open
  until the program cancels it again.

Loop threads never block on the turns of other threads: an asyncio program
that also uses threads has its threads ordered among themselves and against
what the loop has already handed out.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Final

from agentreplay.errors import DivergenceError
from agentreplay.runtime import escape
from agentreplay.runtime.tasks import job_done, job_started, running_job

__all__ = ["DEFAULT_ORDER_TIMEOUT", "HOLD_GRACE", "Schedule", "sleep_until_received"]

DEFAULT_ORDER_TIMEOUT: Final = 30.0
"""Seconds a thread waits for its recorded turn before the replay diverges."""
HOLD_GRACE: Final = 600.0
"""Virtual seconds a cancelled request is held open past its recorded cancellation
before the replay says the cancellation never came (virtual: costs no real time)."""

_in_loop = asyncio._get_running_loop
_ANYIO_SCOPE = "Cancelled via cancel scope"
"""How an anyio cancel scope words the cancellations it delivers (anyio 4)."""


async def sleep_until_received(arrival: asyncio.Future[None]) -> None:
    """Wait for ``arrival``, the instant the recording shows the program received
    something (a response, a chunk, the end of a body): a cancellation that comes on
    the way is held back until then, and comes at the program's next wait.

    On the loop that recorded the run it was that way round: a loop runs the I/O that
    is ready before the timers that fell due in the same turn, and an anyio cancel
    scope does not cancel a task whose answer is ready, so a deadline that expired
    while a busy loop was working fired after the answer had been handed out (openai's
    100 ms drain of a finished stream often outlives its deadline so). In virtual time
    the deadline comes first: without this, the task would go on early, and take work
    from a shared queue before a task that took it in the recording."""
    try:
        await asyncio.shield(arrival)
        return
    except asyncio.CancelledError as cancel:
        message = cancel.args[0] if cancel.args else None
    task = asyncio.current_task()
    anyio = sys.modules.get("anyio")
    if anyio is not None and isinstance(message, str) and message.startswith(_ANYIO_SCOPE):
        # The scope would cancel again at every turn of the loop; shielded, it waits,
        # and cancels again when the shield is left.
        with anyio.CancelScope(shield=True):
            await asyncio.shield(arrival)
        return
    assert task is not None
    taken = 0  # asyncio.timeout, Task.cancel(): each asks once, so each is asked again
    while True:
        task.uncancel()
        taken += 1
        try:
            await asyncio.shield(arrival)
            break
        except asyncio.CancelledError as again:
            message = again.args[0] if again.args else message
    for _ in range(taken):
        task.cancel(message)


class Schedule:
    """The recorded order of a run's answers, and who has been handed theirs."""

    def __init__(
        self,
        count: int,
        describe: Callable[[int], str],
        timeout: float = DEFAULT_ORDER_TIMEOUT,
    ) -> None:
        self._delivered = bytearray(count)
        self._low = 0  # every position below it is handed out
        self._cond = threading.Condition(threading.Lock())
        self._waiting = 0
        # Executor jobs (their sessions) waiting for a position, not counted as working.
        self._parked: dict[int, list[object]] = {}
        self._describe = describe
        self.timeout = timeout
        self.released = False
        self._abandoned: int | None = None  # the first position whose task ended without it
        # Asyncio answers pending now: position -> future done when handed out.
        self._pending: dict[int, asyncio.Future[None]] = {}

    # -- threads ---------------------------------------------------------------
    def wait(self, position: int, who: str) -> int | None:
        """Block this thread until every answer before ``position`` is handed out.

        Returns None when the turn has come, or at once the position before it that will
        never be handed out (`abandon`): the caller diverges, naming it.

        An executor job waiting so does not count as working (an event loop may have to
        move its clock to hand out what comes first); it counts again from the moment
        its turn comes, before its thread even wakes (`_grant`), so that the loop does
        not move on in that instant either."""
        if position <= self._low or self.released or _in_loop() is not None:
            return None
        deadline = escape.monotonic() + self.timeout
        job = running_job()
        with self._cond:
            if job is not None and self._low < position and not self.released:
                job_done(job)
                self._parked.setdefault(position, []).append(job)
            try:
                while self._low < position and not self.released:
                    lost = self._abandoned
                    if lost is not None and lost < position and not self._delivered[lost]:
                        return lost
                    remaining = deadline - escape.monotonic()
                    if remaining <= 0:
                        raise self._stuck(position, who)
                    self._waiting += 1
                    try:
                        self._cond.wait(remaining)
                    finally:
                        self._waiting -= 1
            finally:
                parked = self._parked.get(position)
                if job is not None and parked is not None and job in parked:  # not granted
                    parked.remove(job)
                    if not parked:
                        del self._parked[position]
                    job_started(job)
        return None

    def delivered(self, position: int) -> bool:
        """Has the answer at ``position`` been handed out?"""
        return bool(self._delivered[position])

    def abandon(self, position: int) -> None:
        """The answer at ``position`` will never be asked for (its task has ended): whoever
        waits for a turn after it stops waiting."""
        with self._cond:
            if self._abandoned is None or position < self._abandoned:
                self._abandoned = position
            if self._waiting:
                self._cond.notify_all()

    def deliver(self, position: int) -> None:
        """The answer at ``position`` has been handed out."""
        if position < 0 or position >= len(self._delivered):
            return
        with self._cond:
            self._delivered[position] = 1
            if position == self._low:
                low, delivered = position, self._delivered
                while low < len(delivered) and delivered[low]:
                    low += 1
                self._low = low
                if self._parked:
                    self._grant(lambda waited: waited <= low)
                if self._waiting:
                    self._cond.notify_all()

    def _grant(self, due: Callable[[int], bool]) -> None:
        """The jobs parked for a position that ``due`` says has come work again."""
        for waited in [waited for waited in self._parked if due(waited)]:
            for job in self._parked.pop(waited):
                job_started(job)

    def release(self) -> None:
        """Stop ordering (the run went live or diverged): nobody waits any more."""
        with self._cond:
            self.released = True
            self._grant(lambda waited: True)
            self._cond.notify_all()

    def _stuck(self, position: int, who: str) -> DivergenceError:
        missing = [self._describe(p) for p in range(self._low, position) if not self._delivered[p]]
        shown = "; ".join(missing[:3]) + (
            f"; and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        return DivergenceError(
            f"the threads no longer follow the recorded order: {who} waited "
            f"{self.timeout:g} s for its turn, but what came before it was never asked for",
            expected=f"first: {shown}",
            actual=f"{who} asked for {self._describe(position)}",
        )

    # -- event loops -----------------------------------------------------------
    async def due(self, position: int, arrival: asyncio.Future[None] | None) -> None:
        """Wait for ``arrival`` (the answer's recorded instant; None: it is due), then
        for the pending answers recorded before this one; hand this one out."""
        loop = asyncio.get_running_loop()
        mine: asyncio.Future[None] = loop.create_future()
        if position >= 0:
            self._pending[position] = mine
        try:
            if arrival is not None:
                await sleep_until_received(arrival)
            while True:
                earlier = [
                    future
                    for other, future in self._pending.items()
                    if other < position and not future.done()
                ]
                if not earlier or self.released:
                    break
                await asyncio.wait(earlier)
        finally:
            # Handed out, or (cancelled) never to be: either way nobody waits for it.
            if not mine.done():
                mine.set_result(None)
            self._pending.pop(position, None)
            self.deliver(position)
