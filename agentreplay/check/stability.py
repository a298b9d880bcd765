"""The replay stability audit (``check --twice``): does a recording replay the same way
each time?

A gate is only as good as its replays are deterministic. A run that reads
something its recording did not capture (the order of a set of strings under
another hash seed, a clock or random source no hook sees) can pass one replay
and fail the next. The audit replays a cassette a second time, and once more
under chaos seed 1, each replay written to a cassette of its own (a what-if
run that changes nothing), and compares each with the first through the run
diff (`agentreplay.rundiff.diff`). When the recording kept no ``PYTHONHASHSEED``
the replays run under different ones, so a dependence on it shows at once
rather than one CI run in many.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from agentreplay.debugger.chaos import perturb
from agentreplay.debugger.launch import Launch, RunReport, replay_cassette
from agentreplay.debugger.messages import ReplayOptions
from agentreplay.rundiff import RunDiff, diff

__all__ = ["CHAOS_SEED", "HASH_SEEDS", "audit", "consent", "replay_into"]

HASH_SEEDS: Final = ("1", "2")
"""The hash seeds of the first and second replay, for recordings that kept none."""
CHAOS_SEED: Final = 1

Run = tuple[RunReport, Path]
"""A replay's report, and the cassette it wrote of itself."""


def consent(trusted: bool) -> Callable[[Launch], bool] | None:
    """What `replay_cassette` asks before running a cassette made elsewhere that runs
    code from outside the working tree: yes when ``trusted`` (``check --yes``), else
    nothing to ask, so such a cassette is refused (its verdict is ``error``)."""
    return (lambda _: True) if trusted else None


def replay_into(
    source: Path, target: Path, timeout: float, hash_seed: str, trusted: bool = False
) -> RunReport:
    """Replay ``source``, writing the replayed run into ``target``."""
    options = ReplayOptions(fork_path=target)
    return replay_cassette(
        source,
        options,
        capture=True,
        confirm=consent(trusted),
        timeout=timeout,
        hash_seed=hash_seed,
    )


def audit(path: Path, first: Run, timeout: float, tmp: Path, trusted: bool = False) -> str:
    """Empty when a second replay of ``path``, and one under chaos, run as ``first``
    did; otherwise where they part, and the call site when a replay diverged."""
    second = tmp / "second.cassette"
    report = replay_into(path, second, timeout, HASH_SEEDS[1], trusted)
    runs = [("a second replay", (report, second))]
    schedule, chaos = tmp / "chaos-schedule.cassette", tmp / "chaos.cassette"
    perturb(path, schedule, CHAOS_SEED)
    report = replay_into(schedule, chaos, timeout, HASH_SEEDS[0], trusted)
    runs.append((f"the replay under chaos seed {CHAOS_SEED}", (report, chaos)))
    for name, run in runs:
        if difference := _compare(first, run, name):
            return difference
    return ""


def _compare(first: Run, other: Run, name: str) -> str:
    for label, (report, cassette) in (("the first replay", first), (name, other)):
        if not cassette.is_file():
            lines = [line for line in report.output.splitlines() if line.strip()]
            return f"{label} did not finish: {lines[-1] if lines else report.exit_code}"
    found = diff(first[1], other[1])
    if found.identical:
        return ""
    return "; ".join([f"{name} differs from the first {_where(found)}", *_sites(first, other)])


def _where(found: RunDiff) -> str:
    row = found.first_divergence
    ref = None if row is None else row.a or row.b
    if row is None or ref is None:
        return f"in how it ended ({_short(found.outcome.a)} / {_short(found.outcome.b)})"
    return f"at step {ref.number} ({ref.kind} {ref.name}: {row.verdict.words})"


def _short(text: str, width: int = 72) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _sites(*runs: Run) -> list[str]:
    """What a diverging replay said of where: its first line, the call site, a hint."""
    said: list[str] = []
    for report, _ in runs:
        divergence = report.verdict.divergence if report.verdict else None
        if divergence is None:
            continue
        lines = divergence.message.splitlines()
        keep = [lines[0].split(":")[0]] + [
            line.strip()
            for line in lines[1:]
            if line.strip().startswith(("call site:", "(only the order"))
        ]
        said.extend(line for line in keep if line not in said)
    return said
