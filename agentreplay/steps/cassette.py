"""`agentreplay.open(path)`: a cassette with its steps decoded."""

from __future__ import annotations

import os
from collections.abc import Iterator

from agentreplay.cassette.reader import CassetteReader
from agentreplay.steps.builder import iter_steps
from agentreplay.steps.model import Step

__all__ = ["Cassette", "open_cassette"]


class Cassette(CassetteReader):
    """An open cassette: header, events, the index of steps, the outcome, and the
    steps themselves, decoded. Use `agentreplay.open(path)` to get one."""

    def steps(self) -> Iterator[Step]:
        """Every step, decoded (LLM calls, tools, spans), in one streaming pass."""
        return iter_steps(self)


def open_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Open a cassette for reading: header now, events and steps on demand."""
    return Cassette(path)
