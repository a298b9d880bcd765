"""When two runs ended the same way: the one comparison of recorded outcomes that the
replay's verdict (and so `agentreplay check`) and the run diff share.

What differs from run to run without meaning anything is left out of the
comparison, never out of what is shown: the memory address CPython writes in
the repr of an object, function, method, generator or weakref
(``<Order object at 0x7f3a...>``), wherever it appears in a return value's repr
or an exception's message.
"""

from __future__ import annotations

import re
from typing import Final

from agentreplay.cassette.events import ErrorInfo

__all__ = ["ADDRESS", "same_error", "same_text", "without_addresses"]

ADDRESS: Final = re.compile(r" at 0x[0-9a-fA-F]+")
"""A memory address, as a default repr writes it."""


def without_addresses(text: str) -> str:
    return ADDRESS.sub("", text)


def same_text(a: str, b: str) -> bool:
    """The same text once memory addresses are left out."""
    return a == b or without_addresses(a) == without_addresses(b)


def same_error(a: ErrorInfo, b: ErrorInfo) -> bool:
    """Same exception type and message (`same_text`). A group recorded by an older
    agentreplay, whose message only counted its exceptions, matches the same group with
    them named."""
    if a.type != b.type:
        return False
    if same_text(a.message, b.message):
        return True
    older, newer = sorted((a, b), key=lambda error: len(error.message))
    return newer.own_message != newer.message and same_text(older.message, newer.own_message)
