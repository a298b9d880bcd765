"""The steps visited by jumps, to go back (``ctrl+o``) and forward (``ctrl+i``) as in vim."""

from __future__ import annotations

__all__ = ["JumpList"]


class JumpList:
    """Where each jump (go to, search, next error...) left from; moving line by line is not
    a jump."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._back: list[int] = []
        self._forward: list[int] = []

    def jumped(self, origin: int) -> None:
        """A jump is leaving step ``origin``."""
        if self._back[-1:] != [origin]:
            self._back.append(origin)
            del self._back[: -self.limit]
        self._forward.clear()

    def back(self, current: int) -> int | None:
        """The step to go back to from ``current``, if any."""
        while self._back:
            target = self._back.pop()
            if target != current:
                self._forward.append(current)
                return target
        return None

    def forward(self, current: int) -> int | None:
        """The step a `back` left, if any."""
        while self._forward:
            target = self._forward.pop()
            if target != current:
                self._back.append(current)
                return target
        return None
