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
from agentreplay.session.timeline import Timeline

__all__ = ["TimeAndOrder"]

_INF = float("inf")


def _in_callback() -> bool:
    """Is this a callback an event loop runs (in the context of the task that scheduled
    it), not a task? Its place among that task's own answers is the loop's to decide."""
    loop = asyncio._get_running_loop()
    return loop is not None and asyncio.current_task(loop) is None


class TimeAndOrder:
    """Mixed into `Replay`: the time-and-order methods of the session contract."""

    pace: float
    live: bool
    strict: bool
    schedule: Schedule | None
    replayer: Replayer | None
    recorder: Recorder | None
    _timelines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Timeline]

    def _divergence(
        self, reason: str, task: TaskState, *, step: int | None, expected: str, actual: str
    ) -> DivergenceError:
        raise NotImplementedError  # the session's own

    def _go_live_instead(self) -> bool:
        raise NotImplementedError  # the session's own

    def _describe_position(self, position: int) -> str:
        assert self.replayer is not None
        step, task, what = self.replayer.positions[position]
        return f"step {step} (task {task}: {what})" if step else f"task {task}: {what}"

    def _turn(self, task: TaskState, position: int) -> None:
        """A thread takes its recorded turn for the answer at ``position``."""
        assert self.schedule is not None
        self._wait(task, position)
        self.schedule.deliver(position)

    def _wait(self, task: TaskState, position: int) -> None:
        """Wait for the turn at ``position``: diverge at once if it can never come."""
        assert self.schedule is not None
        self._passed_over(task, position)
        lost = self.schedule.wait(position, f"task {task.id}")
        if lost is not None:
            raise self._ended_without(task, lost, position)

    def _passed_over(self, task: TaskState, position: int) -> None:
        """``task`` asks for its answer at ``position``: what it was recorded asking for
        before that and has not asked for here, only it could have asked for, so a turn
        behind it would never come. An ordering point not reached is let go (a poll
        fewer, as `order_wait` does); anything else is a divergence now (let go too when
        matching is not strict, or going live instead in a fork)."""
        assert self.replayer is not None and self.schedule is not None
        schedule, own = self.schedule, self.replayer.turns.get(task.id)
        if not own or own[0] >= position or schedule.released or _in_callback():
            return  # the common case first: nothing of its own before this turn
        while own and own[0] < position and not schedule.released:
            earlier = own[0]
            if not schedule.delivered(earlier):
                if earlier in self.replayer.points:
                    self._let_go_points(task, earlier)
                elif self.strict and not self._go_live_instead():
                    raise self._skipped(task, earlier, position)
                schedule.deliver(earlier)
            own.popleft()

    def _let_go_points(self, task: TaskState, upto: int) -> None:
        assert self.replayer is not None and self.schedule is not None
        queue = self.replayer.order.get(task.id)
        while queue and queue[0].position <= upto:
            self.schedule.deliver(queue.popleft().position)

    def _skipped(self, task: TaskState, skipped: int, position: int) -> DivergenceError:
        assert self.replayer is not None
        step = self.replayer.positions[skipped][0] or self.replayer.positions[position][0]
        return self._divergence(
            "the replay skipped something the recorded run asked for at this point",
            task,
            step=step or None,
            expected=self._describe_position(skipped),
            actual=f"went on to {self._describe_position(position)}",
        )

    def _ended_without(self, task: TaskState, lost: int, position: int) -> DivergenceError:
        assert self.replayer is not None
        step, owner, _ = self.replayer.positions[lost]
        return self._divergence(
            f"task {owner} ended without asking for something it asked for in the recorded "
            f"run, before this turn: the turn can never come",
            task,
            step=step or None,
            expected=self._describe_position(lost),
            actual=f"task {owner} ended; task {task.id} asked for "
            f"{self._describe_position(position)}",
        )

    def wait_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        if self.pace != _INF:
            escape.sleep(exchange.latency() / self.pace)
        self._turn(task, exchange.position)

    def _arrival(
        self, at: int, anchor: int, *, request: bool = False
    ) -> asyncio.Future[None] | None:
        """A future done at the recorded instant ``at``, or None if that is now or past.
        A loop's clock is tied to the recorded timeline at its first request: then, it
        stands at the instant the request was recorded at (``anchor``). The loop's own
        code takes no virtual time, so its clock falls behind the timeline wherever the
        recorded run computed; a request recorded later on the timeline than the clock
        now stands ties them again there, so that each answer comes its recorded latency
        after its request, and a deadline set before the computing never fires early
        for it (``request``: ``anchor`` is the instant of a request made now). The waits
        already scheduled move with the tie (timeline.py)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        timeline = self._timelines.get(loop)
        if timeline is None:
            timeline = self._timelines[loop] = Timeline(loop, now - anchor / 1e9)
        elif request and timeline.base + anchor / 1e9 > now:
            timeline.retie(now - anchor / 1e9)
        if timeline.delay(at) <= 0:
            return None
        return timeline.until(at)

    async def await_answer(self, task: TaskState, exchange: RecordedExchange) -> None:
        assert self.schedule is not None
        self._passed_over(task, exchange.position)
        if exchange.response is None and exchange.cancelled:
            await self._held_open(task, exchange, exchange.latency(), exchange.position)
        answer = exchange.response or exchange.error
        arrival = (
            self._arrival(answer.at, exchange.request.at, request=True)
            if answer is not None
            else None
        )
        await self.schedule.due(exchange.position, arrival)

    async def arrive(self, at: int, *, received: bool = True) -> None:
        arrival = self._arrival(at, at)
        if arrival is not None:
            await (sleep_until_received(arrival) if received else arrival)

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
        self._wait(task, point.position)
        return point.position

    def order_finish(self, task: TaskState) -> None:
        assert self.replayer is not None and self.schedule is not None
        schedule = self.schedule
        queue = self.replayer.order.get(task.id)
        while queue:  # recorded points this thread never reached: nobody waits for them
            schedule.deliver(queue.popleft().position)
        # Its answers it never asked for: nobody else can ask for them.
        left = [p for p in tuple(self.replayer.turns.get(task.id, ())) if not schedule.delivered(p)]
        if not left or schedule.released:
            return
        if self.strict:
            schedule.abandon(left[0])  # a turn after it diverges, naming it
        else:
            for position in left:
                schedule.deliver(position)

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
