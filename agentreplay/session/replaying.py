"""`replay(path)`: hand the recorded inputs back, and check the run still matches.

Beyond strict replay, a replay can:

- fork (``live_after=N``): steps 1..N come from the cassette, then the run
  goes live, and everything (the replayed steps included) is written to a new
  cassette whose header names its parent and N;
- be steered by a `ReplayPolicy` from the layer above: the debugger's stops
  at a step or where the run diverges, and its "what if" answers (step N gets
  another value than its recorded response; later steps replay while their
  requests still match).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentreplay.cassette.events import ErrorInfo, Event
from agentreplay.cassette.reader import open_reader
from agentreplay.errors import (
    CassetteError,
    CassetteWarning,
    DivergenceError,
    RequestSnapshot,
    UsageError,
)
from agentreplay.runtime import registry
from agentreplay.runtime.callers import agent_call_site, library_caller
from agentreplay.runtime.contract import RecordedExchange, RequestInfo, ToolAnswer
from agentreplay.runtime.tasks import TaskState
from agentreplay.session.core import Mode, Session, parse_pace
from agentreplay.session.fork import ForkClocks, echo, open_fork
from agentreplay.session.matching import DefaultMatcher, Matcher, json_diff, with_hints
from agentreplay.session.ordering import TimeAndOrder
from agentreplay.session.outcome import ReplayResult, compare_outcomes
from agentreplay.session.policy import PlainReplay, ReplayPolicy
from agentreplay.session.recorder import ExchangeRecorder, Recorder, ToolRecording
from agentreplay.session.redaction import Redaction, Redactor
from agentreplay.session.replayer import Replayer
from agentreplay.session.schedule import (
    DEFAULT_ORDER_TIMEOUT,
    Schedule,
)
from agentreplay.session.timeline import Timeline

__all__ = ["Replay", "ReplayResult"]

_INF = float("inf")


class Replay(TimeAndOrder, Session):
    """A run being replayed from a cassette. Use `agentreplay.replay(path)`."""

    mode = Mode.REPLAY

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        strict: bool = True,
        matcher: Matcher | None = None,
        redact: Redaction | None = None,
        pace: str | float = "instant",
        live_after: int | None = None,
        fork_path: str | os.PathLike[str] | None = None,
        policy: ReplayPolicy | None = None,
        order_timeout: float = DEFAULT_ORDER_TIMEOUT,
    ) -> None:
        super().__init__(path)
        self.strict = strict
        self.matcher: Matcher = matcher if matcher is not None else DefaultMatcher()
        self.redaction = redact if redact is not None else Redaction()
        self._redaction_given = redact is not None
        self.redactor: Redactor = self.redaction.redactor(environment=False)
        self.pace = parse_pace(pace)
        if live_after is not None and live_after < 0:
            raise UsageError(f"live_after must be a step number, not {live_after}")
        self.live_after = live_after
        self.policy: ReplayPolicy = policy if policy is not None else PlainReplay()
        self.fork_path = Path(fork_path) if fork_path is not None else None
        self.replayer: Replayer | None = None
        self.recorder: Recorder | None = None  # the fork's, when there is one
        self.order_timeout = order_timeout
        self.schedule: Schedule | None = None
        # Each event loop's tie to the recorded timeline (timeline.py).
        self._timelines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Timeline] = (
            weakref.WeakKeyDictionary()
        )
        self.step = 0
        self.live = False
        self.result: ReplayResult | None = None
        self.http_only = False  # an imported cassette: see _open
        self._clocks = ForkClocks()

    def __repr__(self) -> str:
        return f"<Replay {str(self.path)!r}{' running' if self.running else ''}>"

    @property
    def reproduced(self) -> bool | None:
        return None if self.result is None else self.result.reproduced

    @property
    def header(self) -> dict[str, Any]:
        assert self.replayer is not None, "the replay has not started"
        return self.replayer.header

    # -- lifecycle -------------------------------------------------------
    @property
    def offline(self) -> bool:
        return not self.live

    @property
    def virtual_time(self) -> bool:
        """Sleeps wait for real once the run is live (a fork), and in an imported
        cassette's replay, which has no recorded timing."""
        return not self.live and not self.http_only

    def _open(self) -> None:
        with open_reader(self.path) as cassette:
            self.replayer = Replayer(cassette)
            if not self.replayer.events:
                cassette.check_has_events()
                raise CassetteError(
                    "the cassette holds no events, so there is nothing to replay",
                    path=str(self.path),
                )
            self.policy.check(cassette.step_infos())
        for message in self.replayer.warnings:
            warnings.warn(message, CassetteWarning, stacklevel=4)
        # An imported (vcrpy) cassette holds HTTP only, with no logical tasks: it is
        # replayed as vcrpy played it, any exchange to any task, real time running.
        # The result says so (a warning would fail suites that turn warnings to errors).
        self.http_only = self.replayer.header.get("recorded") == ["http"]
        if self.http_only:
            self.strict = False
        if not self._redaction_given:  # match as the recording did
            self.redaction, hooks = Redaction.from_description(
                self.replayer.header.get("redaction")
            )
            if hooks:
                warnings.warn(
                    f"the recording redacted requests with {', '.join(hooks)}; pass the same "
                    f"hooks to replay(redact=...), or what they hid may not match",
                    CassetteWarning,
                    stacklevel=4,
                )
        # The live side learns its own secrets (this environment's keys, the values in
        # its redacted places), so what the recording hid matches what replay hides.
        self.redactor = self.redaction.redactor()
        self.step = 0
        self.live = False
        self.result = None
        self._clocks.reset()
        self.schedule = Schedule(
            len(self.replayer.positions), self._describe_position, self.order_timeout
        )
        if self.http_only:
            self.schedule.release()  # no tasks, no timing: nothing to take turns by
        if self.live_after is not None or self.fork_path is not None:
            # A fork, or a what-if given a path: a new run, written to a cassette of its own.
            self.fork_path = self.fork_path or self.path.with_name(
                f"{self.path.stem}.fork{self.live_after}{self.path.suffix}"
            )
            self.recorder = open_fork(
                self.fork_path,
                self.path,
                self.replayer.header,
                self.live_after,
                self.redactor,
                self.policy.changes(),
            )

    def _abort(self) -> None:
        """Starting failed: the fork's cassette holds nothing worth keeping."""
        if self.recorder is not None and self.fork_path is not None:
            self.recorder.writer.abandon()
            self.fork_path.unlink(missing_ok=True)
            self.recorder = None

    def _started(self) -> None:
        registry.guard_network()
        if self.live_after == 0:
            self._go_live()  # nothing is replayed: live from the first instant
        self._seed_global_random()

    @property
    def warnings(self) -> list[str]:
        """Why the cassette could not be read whole, if it could not."""
        return list(self.replayer.warnings) if self.replayer is not None else []

    def _what_if(self) -> str:
        changes = [change] if (change := self.policy.changes()) else []
        if self.live and self.live_after is not None:
            changes.append(f"live after step {self.live_after}")
        return "; ".join(changes)

    def _finish(self, exc: BaseException | None, value: Any, returned: bool) -> None:
        assert self.replayer is not None
        if isinstance(exc, DivergenceError):
            self.diverge(exc)
        if self.recorder is not None:
            outcome = self.outcome_event(exc, value, returned, self.recorder.now())
            if isinstance(exc, DivergenceError):  # the new run ended there, and so says
                outcome = dataclasses.replace(outcome, error=ErrorInfo.from_exception(exc))
            self.recorder.outcome(outcome)
        _, value_repr, error = self.outcome_fields(exc, value, returned)
        # The recorded outcome had its secrets taken out; so has this one, to compare.
        value_repr, error = self.redactor.text(value_repr), self.redactor.error(error)
        self.result = compare_outcomes(
            self.replayer.outcome,
            self.replayer.outcome_step,
            error,
            value_repr,
            returned,
            step=self.step,
            divergence=self.divergence,
            unused_calls=0 if self.live else self.replayer.remaining_calls(),
            what_if=self._what_if(),
            damaged="; ".join(self.warnings),
            http_only=self.http_only,
        )

    def _close(self) -> None:
        self._restore_global_random()
        if self.schedule is not None:
            self.schedule.release()
        if self.recorder is not None:
            self.recorder.writer.close()

    def _note_unrecorded(self, address: str) -> None:
        if self.recorder is not None:  # a fork's live part
            self.recorder.writer.note_unrecorded(address)

    # -- stepping, breaking, going live ------------------------------------
    def _serve(self, step: int) -> bool:
        """Called before handing out a recorded input of ``step``: False means go live."""
        if self.live:
            return False
        if self.live_after is not None and step > self.live_after:
            self._go_live()
            return False
        if step > self.step:
            previous, self.step = self.step, step
            self.policy.step_reached(step, previous)
        return True

    def _go_live_instead(self) -> bool:
        """At the end of the recording or a mismatch: go live if forking, else diverge."""
        if self.live_after is not None:
            self._go_live()
            return True
        return False

    def _after_answer(self, step: int) -> None:
        """Step ``step``'s answer was handed out: a fork after it goes live now, so the
        waiting, clock reads and draws that follow it are live too."""
        if self.live_after != step or self.live or self.replayer is None:
            return
        replayer = self.replayer
        if not any(e.step == step for queue in replayer.http.values() for e in queue) and not any(
            t.step == step for queue in replayer.tools.values() for t in queue
        ):
            self._go_live()

    def _go_live(self) -> None:
        self.live = True
        self._clocks.went_live()
        if self.schedule is not None:
            self.schedule.release()  # live answers come when they come

    def _divergence(
        self,
        reason: str,
        task: TaskState,
        *,
        step: int | None,
        expected: str = "",
        actual: str = "",
        diff: list[str] | None = None,
        requests: tuple[RequestInfo, RequestInfo] | None = None,
    ) -> DivergenceError:
        snapshots = [RequestSnapshot(r.method, r.url, r.body) for r in requests or ()]
        return self.diverge(
            DivergenceError(
                reason,
                step=step,
                task=task.id,
                expected=expected,
                actual=actual,
                diff=diff,
                call_site=agent_call_site(3),
                expected_request=snapshots[0] if snapshots else None,
                actual_request=snapshots[1] if snapshots else None,
            )
        )

    def diverge(self, error: DivergenceError) -> DivergenceError:
        first = self.divergence is None
        super().diverge(error)
        if first:
            if self.schedule is not None:
                self.schedule.release()  # the run is off the recording: no more turns
            self.policy.diverged(error)
        return error

    def _past_end(self, task: TaskState, what: str) -> DivergenceError:
        return self._divergence(
            f"{what}, but the recording has no more of those for this task",
            task,
            step=None,
            expected="(nothing: the recorded run stopped here)",
            actual=what,
        )

    def _echo(self, task: TaskState, events: list[Event]) -> None:
        """Write replayed events into the fork, renumbered as the fork's own."""
        if self.recorder is not None:
            echo(self.recorder, task, events)

    # -- for interceptors ------------------------------------------------
    def http_record(self, task: TaskState, info: RequestInfo) -> ExchangeRecorder | None:
        return self.recorder.http(task, info) if self.recorder is not None else None

    def _find_anywhere(self, actual: RequestInfo) -> RecordedExchange | None:
        assert self.replayer is not None
        for queue in self.replayer.http.values():
            for exchange in queue:
                if not self.matcher.diff(exchange.info(), actual):
                    queue.remove(exchange)
                    return exchange
        return None

    def http_replay(self, task: TaskState, info: RequestInfo) -> RecordedExchange | None:
        """The recorded exchange for this request, or None when the run has gone live."""
        assert self.replayer is not None
        if self.live:
            return None
        actual = self.redactor.request(info)
        queue = self.replayer.http.get(task.id)
        exchange = queue[0] if queue else None
        if exchange is None:
            if not self.strict and (found := self._find_anywhere(actual)) is not None:
                return self._hand_out(task, found)
            if self._go_live_instead():
                return None
            raise self._past_end(task, f"HTTP request {actual.short()}")
        if not self._serve(exchange.step):
            return None
        expected = exchange.info()
        diff = self.matcher.diff(expected, actual)
        if diff:
            if not self.strict and (found := self._find_anywhere(actual)) is not None:
                return self._hand_out(task, found)
            if self._go_live_instead():
                return None
            seed = self.replayer.header.get("pythonhashseed")
            raise self._divergence(
                "the request does not match the recording",
                task,
                step=exchange.step,
                expected=expected.short(),
                actual=actual.short(),
                diff=with_hints(diff, expected, actual, seed),
                requests=(expected, actual),
            )
        if queue:
            queue.popleft()
        return self._hand_out(task, exchange)

    def _hand_out(self, task: TaskState, exchange: RecordedExchange) -> RecordedExchange:
        exchange = self.policy.exchange(exchange)
        self._echo(task, exchange.events())  # a fork: the exchange goes into it
        self._after_answer(exchange.step)
        return exchange

    def clock(self, task: TaskState, kind: str, live: Callable[[], Any]) -> Any:
        assert self.replayer is not None
        queue = self.replayer.clocks.get((task.id, kind))
        read = queue[0] if queue else None
        if read is None or not self._serve(read.step):
            if read is None and not (self.live or self.http_only or self._go_live_instead()):
                by = library_caller()  # an HTTP client's: often a request not recorded
                raise self._past_end(task, f"a {kind} clock read" + (f" by {by}" if by else ""))
            value = self._clocks.live(kind, live()) if self.live else live()
            if self.recorder is not None:
                self.recorder.clock(task, kind, value)
            return value
        self.replayer.next_clock(task.id, kind)
        self._turn(task, read.position)
        self._echo(task, [read.event])
        self._clocks.replayed(kind, read.event.value)
        return read.event.value

    def entropy(
        self, task: TaskState, source: str, size: int, live: Callable[[int], bytes]
    ) -> bytes:
        assert self.replayer is not None
        queue = self.replayer.entropy.get(task.id)
        read = queue[0] if queue else None
        if read is None or not self._serve(read.step):
            if read is None and not (self.live or self.http_only or self._go_live_instead()):
                raise self._past_end(task, f"a draw of {size} random bytes ({source})")
            data = live(size)
            if self.recorder is not None:
                self.recorder.entropy(task, source, data)
            return data
        event = read.event
        data = event.data
        if event.source != source or len(data) != size:
            raise self._divergence(
                "random bytes were drawn differently",
                task,
                step=read.step,
                expected=f"{len(data)} bytes for {event.source}",
                actual=f"{size} bytes for {source}",
            )
        self.replayer.next_entropy(task.id)
        self._turn(task, read.position)
        self._echo(task, [event])
        return data

    def tool_begin(
        self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> ToolAnswer | ToolRecording:
        assert self.replayer is not None
        queue = self.replayer.tools.get(task.id)
        recorded = queue[0] if queue else None
        if recorded is None or not self._serve(recorded.step):
            if recorded is None and not self.live and not self._go_live_instead():
                raise self._past_end(task, f"tool call {name}()")
            return self._record_tool(task, name, args, kwargs)
        call = recorded.call
        redacted_args, redacted_kwargs = self.redactor.tool_args(args, kwargs)
        diff = json_diff(
            {"args": call.args, "kwargs": call.kwargs},
            {"args": redacted_args, "kwargs": redacted_kwargs},
        )
        if call.name != name or diff:
            if self._go_live_instead():
                return self._record_tool(task, name, args, kwargs)
            if call.name != name:
                raise self._divergence(
                    "a different tool was called",
                    task,
                    step=recorded.step,
                    expected=f"{call.name}()",
                    actual=f"{name}()",
                )
            raise self._divergence(
                f"tool {name}() was called with other arguments",
                task,
                step=recorded.step,
                expected=f"{name}(...)",
                actual=f"{name}(...)",
                diff=diff,
            )
        self.replayer.next_tool(task.id)
        self._turn(task, recorded.position)
        recorded = self.policy.tool(recorded)
        result = recorded.result
        self._echo(task, [e for e in (call, result) if e is not None])
        self._after_answer(recorded.step)
        if result is None:
            raise self._divergence(
                "the recording ends inside this tool call",
                task,
                step=recorded.step,
                expected="a recorded result",
                actual="none",
            )
        return ToolAnswer(result.value, result.error)

    def _record_tool(
        self, task: TaskState, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> ToolRecording:
        """A tool call of the live part of a fork: its body runs, into the new cassette."""
        assert self.recorder is not None
        return ToolRecording(self.recorder, task, self.recorder.tool_call(task, name, args, kwargs))

    def span_start(self, task: TaskState, name: str) -> int | None:
        return None if self.recorder is None else self.recorder.step_start(task, name)

    def span_end(self, task: TaskState, start: int, error: ErrorInfo | None) -> None:
        if self.recorder is not None:
            self.recorder.step_end(task, start, error)
