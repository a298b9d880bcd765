"""What the directory list shows of each cassette, read through the library."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agentreplay.errors import CassetteError
from agentreplay.steps import Summary, iter_steps, open_cassette

__all__ = ["RunInfo", "find_cassettes", "read_index", "read_totals"]


@dataclass
class RunInfo:
    path: Path
    created: str = ""
    steps: int = 0
    wall: float | None = None
    outcome: str = ""
    failed: bool = False
    unreadable: str | None = None
    summary: Summary | None = field(default=None, repr=False)


def find_cassettes(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.cassette") if p.is_file())


def read_index(path: Path) -> RunInfo:
    """Header, step count, outcome and wall time: the index and one frame, no decoding."""
    import agentreplay.humanize as fmt

    info = RunInfo(path)
    try:
        with open_cassette(path) as cassette:
            info.created = str(cassette.header.get("created") or "")
            steps = cassette.step_infos()
            info.steps = len(steps)
            outcome = cassette.outcome
            ends = [s.end_at or s.start_at for s in steps] + ([outcome.at] if outcome else [])
            info.wall = max(ends) / 1e9 if ends else 0.0
            info.outcome = fmt.outcome(outcome, info.steps if outcome else None)
            info.failed = outcome is None or outcome.error is not None
            if cassette.damage is not None:
                info.outcome = f"damaged at byte {cassette.damage.offset}"
                info.failed = True
    except CassetteError as exc:
        info.unreadable, info.failed = exc.detail, True
        info.outcome = f"unreadable: {exc.detail}"
    return info


def read_totals(info: RunInfo) -> Summary | None:
    """Tokens and cost: every step decoded, in one streaming pass."""
    if info.unreadable is not None:
        return None
    summary = Summary()
    try:
        with open_cassette(info.path) as cassette:
            for step in iter_steps(cassette, errors="ignore"):
                summary.add(step)
    except CassetteError:
        return None
    return summary
