"""What capture is told: where kept runs go, which runs to keep, and the limits.

`Settings` comes from `agentreplay.capture.enable(...)` or from the
environment (``AGENTREPLAY_CAPTURE=runs/`` or ``s3://bucket/prefix``). A bad
value given in code fails at once with `UsageError`, like every other
setting; one given in the environment is logged and capture stays off, since
a server must start whatever its environment says.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Final

from agentreplay.errors import UsageError
from agentreplay.session.redaction import Redaction

__all__ = ["CAPTURE_ENV", "KEEP_CHOICES", "OFF_VALUES", "Settings", "parse_size"]

CAPTURE_ENV: Final = "AGENTREPLAY_CAPTURE"
"""``runs/`` or ``s3://bucket/prefix`` turns capture on; ``off`` or empty turns it off."""
OFF_VALUES: Final = frozenset({"", "off", "0", "false", "no"})
KEEP_CHOICES: Final = ("errors", "all")

MiB: Final = 1024 * 1024


def parse_size(value: int | str, what: str) -> int:
    """A byte count: an int, or text such as ``16MB``, ``512k``, ``1GiB``."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)i?b?\s*", str(value), re.IGNORECASE)
        if match is None:
            raise UsageError(f"{what} must be a size in bytes (e.g. 16MB), not {value!r}")
        unit = {"": 1, "k": 1024, "m": MiB, "g": 1024 * MiB}[match.group(2).lower()]
        number = int(match.group(1)) * unit
    if number <= 0:
        raise UsageError(f"{what} must be positive, not {value!r}")
    return number


@dataclass(frozen=True)
class Settings:
    """Capture's configuration; see `agentreplay.capture.enable` for each field."""

    sink: str
    keep: str = "errors"
    sample: float = 0.0
    slow_after: float | None = None
    max_run_bytes: int = 16 * MiB
    max_queue_bytes: int = 64 * MiB
    redact: Redaction | None = None
    max_age: float | None = None
    max_total_bytes: int | None = None
    flush_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not isinstance(self.sink, str) or not self.sink.strip():
            raise UsageError("capture needs a sink: a folder (runs/) or s3://bucket/prefix")
        if self.keep not in KEEP_CHOICES:
            raise UsageError(f"keep must be one of {', '.join(KEEP_CHOICES)}, not {self.keep!r}")
        if not 0.0 <= self.sample <= 1.0:
            raise UsageError(f"sample must be a fraction between 0 and 1, not {self.sample!r}")
        if self.slow_after is not None and self.slow_after <= 0:
            raise UsageError(
                f"slow_after must be a positive number of seconds, not {self.slow_after!r}"
            )
        if self.max_age is not None and self.max_age <= 0:
            raise UsageError(f"max_age must be a positive number of seconds, not {self.max_age!r}")
        if self.flush_timeout < 0:
            raise UsageError(f"flush_timeout must not be negative, not {self.flush_timeout!r}")
        object.__setattr__(self, "max_run_bytes", parse_size(self.max_run_bytes, "max_run_bytes"))
        object.__setattr__(
            self, "max_queue_bytes", parse_size(self.max_queue_bytes, "max_queue_bytes")
        )
        if self.max_total_bytes is not None:
            object.__setattr__(
                self, "max_total_bytes", parse_size(self.max_total_bytes, "max_total_bytes")
            )

    @property
    def remote(self) -> bool:
        return self.sink.startswith("s3://")

    def describe(self) -> dict[str, object]:
        """The settings as plain data, for a kept run's header (never a credential)."""
        return {
            "keep": self.keep,
            "sample": self.sample,
            "slow_after": self.slow_after,
            "max_run_bytes": self.max_run_bytes,
        }


def from_env(value: str | None = None) -> Settings | None:
    """The settings ``AGENTREPLAY_CAPTURE`` asks for: None when it is unset or off."""
    text = os.environ.get(CAPTURE_ENV) if value is None else value
    if text is None or text.strip().lower() in OFF_VALUES:
        return None
    return Settings(text.strip())
