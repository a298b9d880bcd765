"""The exceptions agentreplay raises.

    Exception
    └── AgentReplayError            anything agentreplay reports as a plain error
        ├── CassetteError           corrupt, truncated or unsupported cassette (with byte offset)
        ├── RecordingError          a value that cannot be written to a cassette
        └── UsageError              the API or CLI was used in a way that cannot work

    BaseException
    └── DivergenceError             the replayed run stopped matching the recording

    UserWarning
    └── CassetteWarning             a cassette was read, but not all of it was sound

`DivergenceError` derives from `BaseException` on purpose: the model SDKs wrap
any `Exception` raised inside their transport and retry it, so an ordinary
exception would be swallowed and retried three times before surfacing as a
connection error. A divergence must stop the run where it happens.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AgentReplayError",
    "CassetteError",
    "CassetteWarning",
    "DivergenceError",
    "RecordingError",
    "RequestSnapshot",
    "UsageError",
]


class AgentReplayError(Exception):
    """Base class of agentreplay's ordinary errors."""


class CassetteError(AgentReplayError):
    """A cassette is corrupt, truncated, or of an unsupported format version.

    `offset` is the byte offset where reading failed (None when the problem is
    not tied to a position, like a missing file). `events_read` counts the
    events that were read soundly before the damage.
    """

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        path: str | None = None,
        events_read: int = 0,
    ) -> None:
        self.detail = message
        self.offset = offset
        self.path = path
        self.events_read = events_read
        super().__init__(f"{path}: {self.located}" if path is not None else self.located)

    @property
    def located(self) -> str:
        """``at byte N: message``, or the message alone when no offset is known."""
        return self.detail if self.offset is None else f"at byte {self.offset}: {self.detail}"


class RecordingError(AgentReplayError):
    """A value cannot be recorded (for instance a tool result msgpack cannot hold)."""


class UsageError(AgentReplayError):
    """agentreplay was asked to do something that cannot work as asked."""


class CassetteWarning(UserWarning):
    """A cassette was read, but it was truncated, damaged or not closed cleanly."""


@dataclass(frozen=True)
class CallSite:
    """Where in the agent's code a call was made: the first frame outside library code."""

    filename: str
    lineno: int
    function: str
    line: str = ""

    def __str__(self) -> str:
        text = f"{self.filename}:{self.lineno} in {self.function}"
        if self.line:
            text += f"\n    {self.line}"
        return text


@dataclass(frozen=True)
class RequestSnapshot:
    """An HTTP request as a divergence compared it: method, URL and body."""

    method: str
    url: str
    body: bytes


class DivergenceError(BaseException):
    """The replayed run made a call that does not match the recording.

    Attributes: `step` (the step number the call was expected at, or None),
    `task` (logical task id), `expected` and `actual` (short descriptions),
    `diff` (lines of a structured diff) and `call_site` (a `CallSite`). When an
    HTTP request did not match, `expected_request` and `actual_request` are the
    two requests (`RequestSnapshot`), for reports that compare them field by field.
    """

    def __init__(
        self,
        reason: str,
        *,
        step: int | None = None,
        task: str = "0",
        expected: str = "",
        actual: str = "",
        diff: list[str] | None = None,
        call_site: CallSite | None = None,
        expected_request: RequestSnapshot | None = None,
        actual_request: RequestSnapshot | None = None,
    ) -> None:
        self.reason = reason
        self.step = step
        self.task = task
        self.expected = expected
        self.actual = actual
        self.diff = list(diff or [])
        self.call_site = call_site
        self.expected_request = expected_request
        self.actual_request = actual_request
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"at step {self.step}" if self.step is not None else "after the last step"
        lines = [f"replay diverged {where} (task {self.task}): {self.reason}"]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.actual:
            lines.append(f"  actual:   {self.actual}")
        if self.diff:
            lines.append("  differences:")
            lines.extend(f"    {line}" for line in self.diff)
        if self.call_site is not None:
            lines.append(f"  call site: {self.call_site}")
        return "\n".join(lines)
