"""What every HTTP interceptor shares: rebuilding recorded errors, decoding headers,
and what a replayed exchange does when its recording stops short."""

from __future__ import annotations

import builtins
import contextvars
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from agentreplay.cassette.events import ErrorInfo, Headers
from agentreplay.errors import DivergenceError
from agentreplay.runtime.callers import agent_call_site
from agentreplay.runtime.contract import ActiveSession, RecordedExchange
from agentreplay.runtime.tasks import TaskState

__all__ = [
    "RecordedError",
    "after_last_chunk",
    "decode_headers",
    "encode_headers",
    "in_exchange",
    "no_response",
    "rebuild_error",
]

in_exchange: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "agentreplay_in_exchange", default=False
)
"""True while an interceptor is inside the exchange it took; lower hooks stand aside
(openai's aiohttp transport under httpx, urllib3's own retries)."""


def decode_headers(pairs: Iterable[tuple[Any, Any]]) -> Headers:
    """Header pairs as str, decoding bytes as latin-1 so that encoding gives them back."""
    if type(pairs) is list:
        try:  # the common case, httpx's raw headers: bytes pairs
            return tuple([(k.decode("latin-1"), v.decode("latin-1")) for k, v in pairs])
        except AttributeError:  # some are str already
            pass
    return tuple(
        (
            k.decode("latin-1") if isinstance(k, bytes) else str(k),
            v.decode("latin-1") if isinstance(v, bytes) else str(v),
        )
        for k, v in pairs
    )


def encode_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


class RecordedError(Exception):
    """Stands in for a recorded exception whose type cannot be rebuilt here."""

    def __init__(self, error: ErrorInfo) -> None:
        self.error = error
        super().__init__(f"{error.type}: {error.message}")


def rebuild_error(
    error: ErrorInfo,
    namespaces: Iterable[ModuleType],
    construct: Callable[[type[BaseException], str], BaseException] | None = None,
) -> BaseException:
    """The exception that was recorded, as an instance of the same type when possible.

    The type is looked up by its name in ``namespaces`` (the client library's
    own modules) and in builtins; nothing is imported on the cassette's say-so.
    """
    name = error.type.rsplit(".", 1)[-1]
    candidates = [*namespaces, builtins]
    for namespace in candidates:
        cls = getattr(namespace, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                if construct is not None:
                    exc = construct(cls, error.message)
                elif error.args is not None:
                    exc = cls(*error.args)
                else:
                    exc = cls(error.message)
            except Exception:
                continue
            if str(exc) != error.message:
                exc.args = (error.message,)  # same text as recorded, whatever __init__ made
            return exc
    return RecordedError(error)


def no_response(
    session: ActiveSession,
    task: TaskState,
    exchange: RecordedExchange,
    rebuild: Callable[[], BaseException],
) -> BaseException:
    """What a replayed request with no recorded response raises: the recorded error, or a
    divergence if the recording stopped before the response came."""
    if exchange.error is not None:
        return rebuild()
    return session.diverge(
        DivergenceError(
            "the recording ends before this request got a response",
            step=exchange.step,
            task=task.id,
            call_site=agent_call_site(),
        )
    )


def after_last_chunk(
    session: ActiveSession,
    task: TaskState,
    exchange: RecordedExchange,
    rebuild: Callable[[], BaseException],
) -> BaseException | None:
    """What a replayed body raises once its recorded chunks are handed out: the recorded
    error, a divergence if the recording (or the recorded reader) stopped there, or None
    when the body was complete."""
    if exchange.error is not None:
        return rebuild()
    if exchange.end is not None and exchange.end.complete:
        return None
    why = (
        "the recording ends inside this response body"
        if exchange.end is None
        else "the recorded run stopped reading this body here"
    )
    return session.diverge(
        DivergenceError(
            why,
            step=exchange.step,
            task=task.id,
            expected=f"{len(exchange.chunks)} body chunks",
            actual="a read past them",
            call_site=agent_call_site(),
        )
    )
