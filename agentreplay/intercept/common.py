"""What every HTTP interceptor shares: rebuilding recorded errors, decoding headers."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from agentreplay.cassette.events import ErrorInfo, Headers

__all__ = ["decode_headers", "encode_headers", "rebuild_error"]


def decode_headers(pairs: Iterable[tuple[Any, Any]]) -> Headers:
    """Header pairs as str, decoding bytes as latin-1 so that encoding gives them back."""
    return tuple(
        (k.decode("latin-1") if isinstance(k, bytes) else str(k),
         v.decode("latin-1") if isinstance(v, bytes) else str(v))
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
                    return construct(cls, error.message)
                if error.args is not None:
                    return cls(*error.args)
                return cls(error.message)
            except Exception:
                continue
    return RecordedError(error)
