"""How a replay may be steered from outside: the `ReplayPolicy` Protocol.

A replay hands back recorded inputs. A policy, passed in by the layer above
(the debugger), may stop at a step, stop where the run diverges, or answer a
step with something other than its recording ("what if"). The session calls
these methods and imports nothing of the policies themselves.
"""

from __future__ import annotations

from typing import Protocol

from agentreplay.cassette.tracking import StepInfo
from agentreplay.errors import DivergenceError
from agentreplay.runtime.contract import RecordedExchange
from agentreplay.session.replayer import RecordedTool

__all__ = ["PlainReplay", "ReplayPolicy"]


class ReplayPolicy(Protocol):
    def check(self, steps: list[StepInfo]) -> None:
        """Before the run: refuse (with `UsageError`) what this cassette cannot do."""
        ...

    def changes(self) -> str:
        """What the policy changes in the run ("step 3 overridden"), or "" for nothing."""
        ...

    def step_reached(self, step: int, previous: int) -> None:
        """The replay moves from step ``previous`` to ``step`` (a later one)."""
        ...

    def diverged(self, error: DivergenceError) -> None:
        """The replay diverged (called once per divergence, where it happens)."""
        ...

    def exchange(self, exchange: RecordedExchange) -> RecordedExchange:
        """The exchange to hand back for a recorded one."""
        ...

    def tool(self, recorded: RecordedTool) -> RecordedTool:
        """The tool call answer to hand back for a recorded one."""
        ...


class PlainReplay:
    """Hand back the recording as it is, and never stop."""

    def check(self, steps: list[StepInfo]) -> None:
        pass

    def changes(self) -> str:
        return ""

    def step_reached(self, step: int, previous: int) -> None:
        pass

    def diverged(self, error: DivergenceError) -> None:
        pass

    def exchange(self, exchange: RecordedExchange) -> RecordedExchange:
        return exchange

    def tool(self, recorded: RecordedTool) -> RecordedTool:
        return recorded
