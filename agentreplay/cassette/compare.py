"""When two runs ended the same way: the one comparison of recorded outcomes that the
replay's verdict (and so `agentreplay check`) and the run diff share."""

from __future__ import annotations

from agentreplay.cassette.events import ErrorInfo

__all__ = ["same_error"]


def same_error(a: ErrorInfo, b: ErrorInfo) -> bool:
    """Same exception type and message. A group recorded by an older agentreplay, whose
    message only counted its exceptions, matches the same group with them named."""
    if a.type != b.type:
        return False
    if a.message == b.message:
        return True
    older, newer = sorted((a, b), key=lambda error: len(error.message))
    return older.message == newer.own_message != newer.message
