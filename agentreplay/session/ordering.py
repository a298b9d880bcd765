"""The replay's side of time and order: what the hooks call so that threads take
their recorded turns and event loops get each answer at its recorded instant in
virtual time (the order itself is kept by `Schedule`)."""

from __future__ import annotations

import asyncio
import weakref

from agentreplay.errors import DivergenceError
from agentreplay.runtime import escape
from agentreplay.runtime.contract import RecordedExchange
from agentreplay.runtime.tasks import TaskState
from agentreplay.session.recorder import Recorder
from agentreplay.session.replayer import Replayer
from agentreplay.session.schedule import HOLD_GRACE, Schedule, sleep_until_received

__all__ = ["TimeAndOrder"]

_INF = float("inf")


class TimeAndOrder:
    """Mixed into `Replay`: the time-and-order methods of the session contract."""

    pace: float
    live: bool
    schedule: Schedule | None
    replayer: Replayer | None
    recorder: Recorder | None
    _timelines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, float]

    def _divergence(
        self, reason: str, task: TaskState, *, step: int | None, expected: str, actual: str
    ) -> DivergenceError:
        raise NotImplementedError  # the session's own

    def _describe_position(self, position: int) -> str:
        assert self.replayer is not None
        step, task, what = self.replayer.positions[position]
        return f"step {step} (task {task}: {what})" if step else f"task {task}: {what}"

    def _turn(self, task: TaskState, position: int) -> None:
        """A thread takes its recorded turn for the answer at ``position``."""
        assert self.schedule is not None
        self.schedule.wait(position, f"task {task.id}")
        self.schedule.deliver(position)

    def wait_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        if self.pace != _INF:
            escape.sleep(exchange.latency() / self.pace)
        self._turn(task, exchange.position)

    def _delay(self, at: int, anchor: int, *, request: bool = False) -> float:
        """Virtual seconds from now until the recorded instant ``at``. A loop's clock is
        tied to the recorded timeline at its first request: then, it stands at the
        instant the request was recorded at (``anchor``). The loop's own code takes no
        virtual time, so its clock falls behind the timeline wherever the recorded run
        computed; a request recorded later on the timeline than the clock now stands
        ties them again there, so that each answer comes its recorded latency after its
        request, and a deadline set before the computing never fires early for it
        (``request``: ``anchor`` is the instant of a request made now)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        base = self._timelines.get(loop)
        if base is None or (request and base + anchor / 1e9 > now):
            base = self._timelines[loop] = now - anchor / 1e9
        return base + at / 1e9 - now

    async def await_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        assert self.schedule is not None
        if exchange.response is None and exchange.cancelled:
            await self._held_open(task, exchange, exchange.latency(), exchange.position)
        answer = exchange.response or exchange.error
        delay = (
            self._delay(answer.at, exchange.request.at, request=True) if answer is not None else 0.0
        )
        await self.schedule.due(exchange.position, delay)

    async def arrive(self, at: int, *, received: bool = True) -> None:
        delay = self._delay(at, at)
        if delay > 0:
            await (sleep_until_received(delay) if received else asyncio.sleep(delay))

    async def hold_open(self, task: TaskState, exchange: RecordedExchange) -> None:
        await self._held_open(task, exchange, 0.0, -1)

    async def _held_open(
        self, task: TaskState, exchange: RecordedExchange, after: float, position: int
    ) -> None:
        """Wait for the cancellation the recorded program made; it never comes back."""
        assert self.schedule is not None and exchange.error is not None
        try:
            await asyncio.sleep(after + HOLD_GRACE)
        finally:  # cancelled as recorded (or not): its turn is over either way
            self.schedule.deliver(position)
        raise self._divergence(
            "the recorded run cancelled this request (a deadline, or a cancel() of its "
            f"task) {after:.3f} s after sending it, but the replay did not cancel it",
            task,
            step=exchange.step,
            expected="the request cancelled by the program",
            actual=f"still waiting {HOLD_GRACE:g} s later",
        )

    def order_wait(self, task: TaskState, what: str) -> int | None:
        assert self.replayer is not None and self.schedule is not None
        if self.live:
            return None
        queue = self.replayer.order.get(task.id)
        if not queue:
            return None
        if queue[0].event.what != what:
            # The recorded points before the next one like this did not happen here (a
            # poll fewer): let them go, so nobody waits for them. None ahead: this one
            # is not in the recording, so it holds nobody.
            if not any(point.event.what == what for point in queue):
                return None
            while queue[0].event.what != what:
                self.schedule.deliver(queue.popleft().position)
        point = queue[0]
        self.schedule.wait(point.position, f"task {task.id}")
        return point.position

    def order_finish(self, task: TaskState) -> None:
        assert self.replayer is not None and self.schedule is not None
        queue = self.replayer.order.get(task.id)
        while queue:  # recorded points this thread never reached: nobody waits for them
            self.schedule.deliver(queue.popleft().position)

    def order_mark(self, task: TaskState, what: str, position: int | None) -> None:
        assert self.replayer is not None and self.schedule is not None
        if position is None:
            if self.live and self.recorder is not None:
                self.recorder.order(task, what)
            return
        self.replayer.next_order(task.id)
        self.schedule.deliver(position)

    def pace_sync(self, gap: float) -> None:
        if self.pace != _INF and gap > 0:
            escape.sleep(gap / self.pace)
