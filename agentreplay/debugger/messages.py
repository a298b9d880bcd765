"""The messages of script mode: what `agentreplay record|replay` tells the child
interpreter it starts, and what the child tells it back.

    parent (launch.py) ── RunPlan (JSON in $AGENTREPLAY_PLAN) ──► child (bootstrap.py)
    parent ◄── Verdict (JSON in the plan's result file) ── child, or the
                                          @agentreplay.entrypoint it replays

One dataclass each way, encoded and decoded here only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentreplay.session.replaying import Replay

__all__ = [
    "OPTIONS_ENV",
    "PLAN_ENV",
    "RESULT_ENV",
    "DivergenceReport",
    "ReplayOptions",
    "RunPlan",
    "Verdict",
]

PLAN_ENV = "AGENTREPLAY_PLAN"
"""Where the parent puts the `RunPlan` for the child, as JSON."""
RESULT_ENV = "AGENTREPLAY_RESULT_FILE"
"""Where a replayed ``@agentreplay.entrypoint`` writes its `Verdict`."""
OPTIONS_ENV = "AGENTREPLAY_REPLAY_OPTIONS"
"""The `ReplayOptions` for a replayed ``@agentreplay.entrypoint``, as JSON."""


@dataclass
class ReplayOptions:
    """How to replay: the options of `agentreplay.replay()` that the CLI can set."""

    pace: str | float = "instant"
    live_after: int | None = None
    fork_path: str | os.PathLike[str] | None = None
    overrides: dict[int, Any] = field(default_factory=dict)
    break_at: int | None = None
    break_on_divergence: bool = False
    isolate: bool = False
    travel_file: str | None = None
    """Where pdb's ``goto``/``back`` leave the step to go to (script mode only)."""
    breakpoints: list[dict[str, Any]] = field(default_factory=list)
    """pdb breakpoints to set again at the first stop (after a ``goto``)."""

    def to_plain(self) -> dict[str, Any]:
        plain = asdict(self)
        plain["overrides"] = {str(k): v for k, v in self.overrides.items()}
        plain["fork_path"] = None if self.fork_path is None else os.fspath(self.fork_path)
        return plain

    @classmethod
    def from_plain(cls, data: dict[str, Any] | None) -> ReplayOptions:
        data = dict(data or {})
        data["overrides"] = {int(k): v for k, v in (data.get("overrides") or {}).items()}
        return cls(**data)

    def to_env(self) -> str:
        return json.dumps(self.to_plain())

    @classmethod
    def from_env(cls, text: str | None) -> ReplayOptions:
        return cls.from_plain(json.loads(text) if text else None)


@dataclass
class RunPlan:
    """What the child interpreter runs, and how.

    ``target`` is the recorded program as the cassette header keeps it:
    ``{"kind": "path", "path", "argv"}``, ``{"kind": "module", "name", "argv"}``,
    ``{"kind": "code", "code", "argv"}``, ``{"kind": "entrypoint", "entrypoint",
    "file", "args", "argv"}``, or ``{"kind": "asgi", "app", "app_dir", "file"}`` (a
    captured HTTP request; the request itself is read from the cassette).
    """

    mode: str  # "record" | "replay"
    cassette: str
    target: dict[str, Any]
    header: dict[str, Any] | None = None  # record: what the cassette header keeps
    metadata: dict[str, Any] | None = None
    options: ReplayOptions = field(default_factory=ReplayOptions)
    result_file: str | None = None

    def encode(self) -> str:
        plain = asdict(self)
        plain["options"] = self.options.to_plain()
        return json.dumps(plain)

    @classmethod
    def decode(cls, text: str) -> RunPlan:
        data = json.loads(text)
        data["options"] = ReplayOptions.from_plain(data.get("options"))
        return cls(**data)


@dataclass
class DivergenceReport:
    step: int | None
    task: str
    message: str


@dataclass
class Verdict:
    """How a replay in the child ended."""

    reproduced: bool
    what_if: bool
    summary: str
    step: int
    warnings: list[str] = field(default_factory=list)
    divergence: DivergenceReport | None = None
    fork: str | None = None
    failed: bool = False
    """The replayed run itself raised, or exited with a non-zero status."""

    @classmethod
    def of(cls, replay: Replay) -> Verdict | None:
        """The verdict of a finished replay (None if it never finished)."""
        result = replay.result
        if result is None:
            return None
        divergence = result.divergence
        return cls(
            reproduced=result.reproduced,
            what_if=result.what_if,
            summary=result.summary,
            step=result.step,
            warnings=replay.warnings,
            divergence=None
            if divergence is None
            else DivergenceReport(divergence.step, divergence.task, str(divergence)),
            fork=str(replay.fork_path) if replay.fork_path is not None else None,
            failed=result.replayed_error is not None,
        )

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(asdict(self), file)

    @classmethod
    def read(cls, path: str) -> Verdict:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        divergence = data.pop("divergence", None)
        return cls(**data, divergence=DivergenceReport(**divergence) if divergence else None)
