"""A tool call answered from the recording: the body does not run."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from agentreplay.errors import DivergenceError
from agentreplay.intercept.common import rebuild_error
from agentreplay.session.replayer import RecordedTool
from agentreplay.session.tasks import TaskState

__all__ = ["ToolReplayed", "rebuild_tool_error"]


class ToolReplayed:
    """A tool call answered from the recording: its body does not run."""

    replayed: ClassVar[Literal[True]] = True

    def __init__(
        self,
        recorded: RecordedTool,
        divergence: Callable[..., DivergenceError],
        task: TaskState,
    ) -> None:
        self._recorded = recorded
        self._divergence = divergence  # the replay's, which reports and remembers it
        self._task = task

    def outcome(self) -> Any:
        result = self._recorded.result
        if result is None:
            raise self._divergence(
                "the recording ends inside this tool call",
                self._task,
                step=self._recorded.step,
                expected="a recorded result",
                actual="none",
            )
        if result.error is not None:
            raise rebuild_tool_error(result.error)
        return result.value


def rebuild_tool_error(error: Any) -> BaseException:
    """The recorded exception of a tool, as the same type if its module is loaded."""
    module_name, _, _ = error.type.rpartition(".")
    namespaces = [sys.modules[module_name]] if module_name in sys.modules else []
    return rebuild_error(error, namespaces)
