"""The debugger's hold on a replay: stop at a step, stop at a divergence, what-if.

`DebugPolicy` is the `agentreplay.session.policy.ReplayPolicy` that
`agentreplay.replay(..., break_at=, break_on_divergence=, overrides=)`
passes to the replay: the session calls it and knows nothing of pdb or of how
an LLM answer is re-encoded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from agentreplay.cassette.tracking import StepInfo
from agentreplay.debugger.breaks import TimeTravel, break_into
from agentreplay.debugger.messages import ReplayOptions
from agentreplay.debugger.overrides import check_override, override_exchange
from agentreplay.errors import DivergenceError, UsageError
from agentreplay.runtime.callers import agent_call_site, agent_frame
from agentreplay.runtime.contract import RecordedExchange
from agentreplay.session.matching import Matcher
from agentreplay.session.redaction import Redaction
from agentreplay.session.replayer import RecordedTool
from agentreplay.session.replaying import Replay
from agentreplay.session.schedule import DEFAULT_ORDER_TIMEOUT

__all__ = ["TRAVEL_EXIT", "DebugPolicy", "debug_replay"]

TRAVEL_EXIT = 86
"""The exit code of a replay ended by pdb's ``goto``/``back``: start it again."""


def debug_replay(
    path: str | os.PathLike[str],
    options: ReplayOptions,
    *,
    strict: bool = True,
    matcher: Matcher | None = None,
    redact: Redaction | None = None,
    order_timeout: float = DEFAULT_ORDER_TIMEOUT,
) -> Replay:
    """A replay of ``path`` with the debugger's options (see `agentreplay.replay`)."""
    policy = None
    if options.overrides or options.break_at is not None or options.break_on_divergence:
        policy = DebugPolicy(
            path,
            overrides=options.overrides,
            break_at=options.break_at,
            break_on_divergence=options.break_on_divergence,
            travel_file=options.travel_file,
            breakpoints=options.breakpoints,
        )
    fork_path = options.fork_path
    if fork_path is None and options.overrides and options.live_after is None:
        # A what-if is a new run too: keep it beside the original, for `agentreplay diff`.
        where = Path(path)
        first = min(options.overrides)
        fork_path = where.with_name(f"{where.stem}.whatif{first}{where.suffix}")
    return Replay(
        path,
        strict=strict,
        matcher=matcher,
        redact=redact,
        pace=options.pace,
        live_after=options.live_after,
        fork_path=fork_path,
        policy=policy,
        order_timeout=order_timeout,
    )


class DebugPolicy:
    """Breakpoints and overrides for one replay of the cassette at ``path``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overrides: dict[int, Any] | None = None,
        break_at: int | None = None,
        break_on_divergence: bool = False,
        travel_file: str | None = None,
        breakpoints: list[dict[str, Any]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.overrides = dict(overrides or {})
        self.break_at = break_at
        self.break_on_divergence = break_on_divergence
        self.travel_file = travel_file
        self.breakpoints = list(breakpoints or [])
        self.steps = 0
        self.current = 0  # the step the replay is at (stopped before, or in)

    def _travel(self) -> TimeTravel | None:
        if self.travel_file is None:
            return None
        travel = TimeTravel(self.steps, lambda: self.current, self._restart)
        travel.breakpoints, self.breakpoints = self.breakpoints, []
        return travel

    def _restart(self, step: int, breakpoints: list[dict[str, Any]]) -> None:
        """Leave the step to go to for `agentreplay replay`, and end this replay now:
        nothing of the agent's runs any more (no finally block, no recorded input)."""
        assert self.travel_file is not None
        with open(self.travel_file, "w", encoding="utf-8") as file:
            json.dump({"step": step, "breakpoints": breakpoints}, file)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(TRAVEL_EXIT)

    def check(self, steps: list[StepInfo]) -> None:
        """Refuse, before the run starts, an override the run could never use."""
        self.steps = len(steps)
        for number, value in self.overrides.items():
            if type(number) is not int:
                raise UsageError(f"overrides: step numbers are integers, not {number!r}")
            if not 1 <= number <= len(steps):
                raise UsageError(
                    f"overrides: step {number} is not in {self.path} (it has {len(steps)} steps)"
                )
            check_override(steps[number - 1], value)

    def changes(self) -> str:
        if not self.overrides:
            return ""
        return f"step {', '.join(str(n) for n in sorted(self.overrides))} overridden"

    def step_reached(self, step: int, previous: int) -> None:
        self.current = step
        if self.break_at is not None and previous < self.break_at <= step:
            site = agent_call_site()
            where = f" at {site}" if site else ""
            banner = f"agentreplay: stopped before step {step}{where}"
            break_into(agent_frame(), banner, self._travel())

    def diverged(self, error: DivergenceError) -> None:
        if self.break_on_divergence:
            break_into(agent_frame(), f"agentreplay: {error}", self._travel())

    def exchange(self, exchange: RecordedExchange) -> RecordedExchange:
        if exchange.step in self.overrides:
            return override_exchange(exchange, self.overrides[exchange.step])
        return exchange

    def tool(self, recorded: RecordedTool) -> RecordedTool:
        if recorded.step not in self.overrides or recorded.result is None:
            return recorded
        value = self.overrides[recorded.step]
        result = dataclasses.replace(recorded.result, value=value, error=None)
        return RecordedTool(recorded.call, recorded.step, result)
