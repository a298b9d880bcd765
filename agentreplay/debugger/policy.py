"""The debugger's hold on a replay: stop at a step, stop at a divergence, what-if.

`DebugPolicy` is the `agentreplay.session.policy.ReplayPolicy` that
`agentreplay.replay(..., break_at=, break_on_divergence=, overrides=)`
passes to the replay: the session calls it and knows nothing of pdb or of how
an LLM answer is re-encoded.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from agentreplay.cassette.tracking import StepInfo
from agentreplay.debugger.breaks import break_into
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

__all__ = ["DebugPolicy", "debug_replay"]


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
    ) -> None:
        self.path = Path(path)
        self.overrides = dict(overrides or {})
        self.break_at = break_at
        self.break_on_divergence = break_on_divergence

    def check(self, steps: list[StepInfo]) -> None:
        """Refuse, before the run starts, an override the run could never use."""
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
        if self.break_at is not None and previous < self.break_at <= step:
            site = agent_call_site()
            where = f" at {site}" if site else ""
            break_into(agent_frame(), f"agentreplay: stopped before step {step}{where}")

    def diverged(self, error: DivergenceError) -> None:
        if self.break_on_divergence:
            break_into(agent_frame(), f"agentreplay: {error}")

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
