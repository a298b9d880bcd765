"""What agent frameworks keep in the process from one run to the next.

A UUIDv7 generator remembers the millisecond and counter of the last id it
made (CPython 3.14's ``uuid.uuid7``, pydantic-ai's polyfill for older
Pythons, which names every agent run with one). A run started after another
one in the same process (a replay after its recording, the second test of a
pytest session) would find that memory set, take the other branch of the
generator and draw 4 random bytes where the recording drew 10: the replay
diverges at its first id. Like uuid1's last timestamp, the memory is cleared
at the start of each session and put back at its end.

Only modules already imported are touched: one imported during the run starts
with a clear memory anyway.
"""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["FrameworkStateInterceptor"]

_UUID7_MEMORY: Final = (
    ("uuid", "_last_timestamp_v7"),
    ("pydantic_ai._uuid", "_last_timestamp_v7"),
)
"""(module, attribute) of each id generator's memory, None when it is clear."""


class FrameworkStateInterceptor:
    """Clears the frameworks' id generator memory for the session, and restores it."""

    def __init__(self) -> None:
        self._saved: list[tuple[object, str, object]] = []

    def install(self) -> None:
        for module_name, attribute in _UUID7_MEMORY:
            module = sys.modules.get(module_name)
            if module is not None and hasattr(module, attribute):
                self._saved.append((module, attribute, getattr(module, attribute)))
                setattr(module, attribute, None)

    def uninstall(self) -> None:
        for module, attribute, value in self._saved:
            setattr(module, attribute, value)
        self._saved.clear()
