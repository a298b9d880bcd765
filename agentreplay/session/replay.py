"""`replay(path)`: hand the recorded inputs back, and check the run still matches."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.cassette.reader import open_cassette
from agentreplay.errors import DivergenceError
from agentreplay.intercept.common import rebuild_error
from agentreplay.session.callers import agent_call_site
from agentreplay.session.core import Mode, Session, parse_pace
from agentreplay.session.matching import DefaultMatcher, Matcher, RequestInfo, json_diff
from agentreplay.session.recorder import ExchangeRecorder
from agentreplay.session.redaction import Redaction
from agentreplay.session.replayer import RecordedExchange, RecordedTool, Replayer
from agentreplay.session.tasks import TaskState

__all__ = ["Replay", "ReplayResult"]

_INF = float("inf")


@dataclass(frozen=True)
class ReplayResult:
    """Whether a replay reproduced the recorded run."""

    reproduced: bool
    summary: str
    recorded: RunOutcome | None
    replayed_error: ErrorInfo | None
    replayed_value: str
    step: int
    divergence: DivergenceError | None
    unused_calls: int

    def __str__(self) -> str:
        return self.summary


def _describe_outcome(error: ErrorInfo | None, value_repr: str) -> str:
    if error is not None:
        return str(error)
    return f"returned {value_repr}" if value_repr else "completed"


class Replay(Session):
    """A run being replayed from a cassette. Use `agentreplay.replay(path)`."""

    mode = Mode.REPLAY
    virtual_time = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        strict: bool = True,
        matcher: Matcher | None = None,
        redact: Redaction | None = None,
        pace: str | float = "instant",
    ) -> None:
        super().__init__(path)
        self.strict = strict
        self.matcher: Matcher = matcher if matcher is not None else DefaultMatcher()
        self.redaction = redact if redact is not None else Redaction()
        self.pace = parse_pace(pace)
        self.replayer: Replayer | None = None
        self.step = 0
        self.live = False
        self.result: ReplayResult | None = None

    def __repr__(self) -> str:
        return f"<Replay {str(self.path)!r}{' running' if self.running else ''}>"

    @property
    def reproduced(self) -> bool | None:
        return None if self.result is None else self.result.reproduced

    @property
    def header(self) -> dict[str, Any]:
        assert self.replayer is not None, "the replay has not started"
        return self.replayer.header

    def _open(self) -> None:
        with open_cassette(self.path) as cassette:
            self.replayer = Replayer(cassette)
        self.step = 0
        self.live = False
        self.result = None

    def _started(self) -> None:
        self._seed_global_random()

    def _close(self) -> None:
        self._restore_global_random()

    # -- divergence ------------------------------------------------------
    def _divergence(self, reason: str, task: TaskState, *, step: int | None,
                    expected: str = "", actual: str = "",
                    diff: list[str] | None = None) -> DivergenceError:
        return self.diverge(DivergenceError(
            reason, step=step, task=task.id, expected=expected, actual=actual, diff=diff,
            call_site=agent_call_site(2)))

    def _past_end(self, task: TaskState, what: str) -> DivergenceError:
        assert self.replayer is not None
        return self._divergence(
            f"{what}, but the recording has no more of those for this task", task,
            step=None, expected="(nothing: the recorded run stopped here)", actual=what)

    # -- for interceptors ------------------------------------------------
    def serving(self, task: TaskState) -> bool:
        return not self.live

    def http_record(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder | None:
        return None

    def _find_anywhere(self, actual: RequestInfo) -> RecordedExchange | None:
        assert self.replayer is not None
        for queue in self.replayer.http.values():
            for exchange in queue:
                if not self.matcher.diff(exchange.info(), actual):
                    queue.remove(exchange)
                    return exchange
        return None

    def http_replay(self, task: TaskState, info: RequestInfo) -> RecordedExchange:
        assert self.replayer is not None
        actual = self.redaction.request(info)
        exchange = self.replayer.next_http(task.id)
        if exchange is None:
            if not self.strict and (found := self._find_anywhere(actual)) is not None:
                return self._served(found)
            raise self._past_end(task, f"HTTP request {actual.short()}")
        expected = exchange.info()
        diff = self.matcher.diff(expected, actual)
        if diff:
            if not self.strict and (found := self._find_anywhere(actual)) is not None:
                self.replayer.http[task.id].appendleft(exchange)
                return self._served(found)
            raise self._divergence("the request does not match the recording", task,
                                   step=exchange.step, expected=expected.short(),
                                   actual=actual.short(), diff=diff)
        return self._served(exchange)

    def _served(self, exchange: RecordedExchange) -> RecordedExchange:
        self.step = max(self.step, exchange.step)
        return exchange

    def clock(self, task: TaskState, kind: str, live: Callable[[], Any]) -> Any:
        assert self.replayer is not None
        read = self.replayer.next_clock(task.id, kind)
        if read is None:
            raise self._past_end(task, f"a {kind} clock read")
        return read.event.value  # type: ignore[union-attr]

    def entropy(self, task: TaskState, source: str, size: int,
                live: Callable[[int], bytes]) -> bytes:
        assert self.replayer is not None
        read = self.replayer.next_entropy(task.id)
        if read is None:
            raise self._past_end(task, f"a draw of {size} random bytes ({source})")
        event = read.event
        data: bytes = event.data  # type: ignore[union-attr]
        if event.source != source or len(data) != size:  # type: ignore[union-attr]
            raise self._divergence(
                "random bytes were drawn differently", task, step=read.step,
                expected=f"{len(data)} bytes for {event.source}",  # type: ignore[union-attr]
                actual=f"{size} bytes for {source}")
        return data

    def tool_begin(self, task: TaskState, name: str, args: list[Any],
                   kwargs: dict[str, Any]) -> ToolReplayed:
        assert self.replayer is not None
        recorded = self.replayer.next_tool(task.id)
        if recorded is None:
            raise self._past_end(task, f"tool call {name}()")
        call = recorded.call
        if call.name != name:
            raise self._divergence("a different tool was called", task, step=recorded.step,
                                   expected=f"{call.name}()", actual=f"{name}()")
        diff = json_diff({"args": call.args, "kwargs": call.kwargs},
                         {"args": args, "kwargs": kwargs})
        if diff:
            raise self._divergence(f"tool {name}() was called with other arguments", task,
                                   step=recorded.step, expected=f"{name}(...)",
                                   actual=f"{name}(...)", diff=diff)
        self.step = max(self.step, recorded.step)
        return ToolReplayed(recorded, self, task)

    def pace_sync(self, gap: float) -> None:
        if self.pace != _INF and gap > 0:
            from agentreplay.intercept.vtime import real_sleep

            real_sleep(gap / self.pace)

    async def pace_async(self, gap: float) -> None:
        if self.pace != _INF and gap > 0:
            await asyncio.sleep(gap)  # the loop's virtual clock applies the pace

    # -- the end -----------------------------------------------------------
    def _finish(self, exc: BaseException | None, value: Any, returned: bool) -> None:
        assert self.replayer is not None
        if isinstance(exc, DivergenceError):
            self.diverge(exc)
        _, value_repr, error = self.outcome_fields(exc, value, returned)
        self.result = self._compare(error, value_repr, returned)

    def _compare(self, error: ErrorInfo | None, value_repr: str,
                 returned: bool) -> ReplayResult:
        """Same exception type and message; same return value when there is one to see
        (a ``with`` block has none, so only its ending without an exception counts)."""
        assert self.replayer is not None
        recorded = self.replayer.outcome
        unused = self.replayer.remaining_calls()
        replayed = _describe_outcome(error, value_repr)

        def result(reproduced: bool, summary: str) -> ReplayResult:
            return ReplayResult(reproduced, summary, recorded, error, value_repr, self.step,
                                self.divergence, unused)

        if self.divergence is not None:
            step = self.divergence.step
            where = f"step {step}" if step is not None else "the end of the recording"
            return result(False, f"diverged at {where}: {self.divergence.reason}")
        if recorded is None:
            return result(False, f"the recording has no outcome (it was cut short); "
                                 f"the replay {replayed}")
        expected = _describe_outcome(recorded.error, recorded.value_repr)
        same_error = (recorded.error is None) == (error is None) and (
            error is None or (recorded.error is not None
                              and error.type == recorded.error.type
                              and error.message == recorded.error.message))
        same_value = error is not None or not returned or recorded.value_repr == value_repr
        if same_error and same_value and unused == 0:
            return result(True, f"reproduced: {expected} at step {self.replayer.outcome_step}")
        if same_error and same_value:
            return result(False, f"not reproduced: {expected}, but {unused} recorded calls "
                                 f"were never made")
        return result(False, f"not reproduced: recorded {expected}, replay {replayed}")


class ToolReplayed:
    """A tool call answered from the recording: its body does not run."""

    replayed = True

    def __init__(self, recorded: RecordedTool, session: Replay, task: TaskState) -> None:
        self._recorded = recorded
        self._session = session
        self._task = task

    def outcome(self) -> Any:
        result = self._recorded.result
        if result is None:
            raise self._session._divergence(
                "the recording ends inside this tool call", self._task,
                step=self._recorded.step, expected="a recorded result", actual="none")
        if result.error is not None:
            raise rebuild_tool_error(result.error)
        return result.value


def rebuild_tool_error(error: ErrorInfo) -> BaseException:
    """The recorded exception of a tool, as the same type if its module is loaded."""
    import sys

    module_name, _, _ = error.type.rpartition(".")
    namespaces = [sys.modules[module_name]] if module_name in sys.modules else []
    return rebuild_error(error, namespaces)
