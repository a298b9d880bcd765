"""``@agentreplay.tool`` and ``agentreplay.step(name)``.

A tool is a function whose result comes from outside the program without
HTTP: a database query, a subprocess, a file read. While recording, its
arguments and its return value (or exception) are written down, and nothing
it does inside is recorded on its own. On replay its body does not run: the
recorded result is returned, or the recorded exception raised, provided it
was called with the same arguments.

A step groups what happens inside it under a name, for people navigating
the run; it substitutes nothing.
"""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, overload

from agentreplay.cassette.events import ErrorInfo
from agentreplay.cassette.values import check_plain, plain_args
from agentreplay.errors import DivergenceError
from agentreplay.intercept.common import rebuild_error
from agentreplay.runtime.contract import ToolAnswer
from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import TaskState, reset_current_task, set_current_task

__all__ = ["step", "tool"]

F = TypeVar("F", bound=Callable[..., Any])


def _quiet(task: TaskState) -> Any:
    return set_current_task(TaskState(task.id, task.owner, quiet=True))


class _Call:
    """One call of a tool: what the session says of it, and the body run quietly."""

    def __init__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.name = name
        session = active_session()
        self.task = session.run_task() if session is not None else None
        self.handle: Any = None  # a ToolRecorder, or a ToolAnswer
        self._args, self._kwargs = args, kwargs
        if session is not None and self.task is not None:
            self._before = (plain_args(args), plain_args(kwargs.values()))
            plain_kwargs = dict(zip(kwargs, self._before[1], strict=True))
            self.handle = session.tool_begin(self.task, name, self._before[0], plain_kwargs)

    def __enter__(self) -> None:
        assert self.task is not None
        self._token = _quiet(self.task)

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        reset_current_task(self._token)
        if exc is not None and not isinstance(exc, DivergenceError):
            self.handle.raised(exc)

    @property
    def answered(self) -> bool:
        """The recording answers this call: the body does not run."""
        return isinstance(self.handle, ToolAnswer)

    def answer(self) -> Any:
        """The recorded return value; raises the recorded exception."""
        answer: ToolAnswer = self.handle
        if answer.error is not None:
            raise _rebuild_tool_error(answer.error)
        return answer.value

    def returned(self, value: Any) -> Any:
        self.handle.returned(check_plain(value, f"the result of tool {self.name}()"))
        after = (plain_args(self._args), plain_args(self._kwargs.values()))
        if after != self._before:
            warnings.warn(
                f"tool {self.name}() changed its arguments in place; its body does not run "
                f"on replay, so the change will not happen there: return what it computes",
                RuntimeWarning,
                stacklevel=3,
            )
        return value


def _rebuild_tool_error(error: ErrorInfo) -> BaseException:
    """The recorded exception of a tool, as the same type if its module is loaded."""
    module_name, _, _ = error.type.rpartition(".")
    namespaces = [sys.modules[module_name]] if module_name in sys.modules else []
    return rebuild_error(error, namespaces)


def _wrap(func: F, name: str) -> F:
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_tool(*args: Any, **kwargs: Any) -> Any:
            call = _Call(name, args, kwargs)
            if call.handle is None:  # no session, or not the run's task
                return await func(*args, **kwargs)
            if call.answered:
                return call.answer()
            with call:
                value = await func(*args, **kwargs)
            return call.returned(value)

        return async_tool  # type: ignore[return-value]

    @functools.wraps(func)
    def sync_tool(*args: Any, **kwargs: Any) -> Any:
        call = _Call(name, args, kwargs)
        if call.handle is None:
            return func(*args, **kwargs)
        if call.answered:
            return call.answer()
        with call:
            value = func(*args, **kwargs)
        return call.returned(value)

    return sync_tool  # type: ignore[return-value]


@overload
def tool(func: F, /) -> F: ...
@overload
def tool(*, name: str | None = None) -> Callable[[F], F]: ...


def tool(func: F | None = None, /, *, name: str | None = None) -> Any:
    """Record the result of a function with side effects outside HTTP; replay it without
    running the body. Use as ``@tool`` or ``@tool(name="search")``."""
    if func is not None:
        return _wrap(func, name or func.__qualname__)
    return lambda f: _wrap(f, name or f.__qualname__)


class step:
    """Group the events inside under a named step (sync or async ``with``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._open: list[tuple[TaskState, int] | None] = []

    def __enter__(self) -> step:
        session = active_session()
        task = session.run_task() if session is not None else None
        start = session.span_start(task, self.name) if session and task else None
        self._open.append(None if task is None or start is None else (task, start))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        opened = self._open.pop()
        if opened is not None:
            task, start = opened
            error = ErrorInfo.from_exception(exc) if exc is not None else None
            task.owner.span_end(task, start, error)

    async def __aenter__(self) -> step:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
