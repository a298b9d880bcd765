"""Replaying each cassette of a corpus, in parallel worker processes, into a verdict."""

from __future__ import annotations

import ast
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from agentreplay.cassette.reader import open_reader
from agentreplay.check.corpus import read_expectations
from agentreplay.check.stability import HASH_SEEDS, audit, consent, replay_into
from agentreplay.debugger.chaos import perturb
from agentreplay.debugger.launch import RunReport, replay_cassette
from agentreplay.debugger.messages import ReplayOptions
from agentreplay.errors import CassetteError, UsageError
from agentreplay.humanize import plural
from agentreplay.rundiff.text import plain, text_diff

__all__ = ["CheckOptions", "Result", "Verdict", "check_all", "check_one"]


class Verdict(StrEnum):
    """How a cassette fared against the code as it is now."""

    REPRODUCED = "reproduced"
    """The same outcome, every recorded call made."""
    DIVERGED = "diverged"
    """A call stopped matching the recording (the first divergence is in the detail)."""
    OUTCOME_CHANGED = "outcome changed"
    """Every call replayed, but the run returned or raised something else."""
    FIXED = "fixed"
    """Expected fixed: the recorded failure no longer happens."""
    STILL_FAILING = "still failing"
    """Expected fixed: the recorded failure still happens."""
    ERROR = "error"
    """The replay could not run (missing entrypoint, import error, time limit)."""
    SKIPPED = "skipped"
    """Not a run agentreplay can start by itself (recorded around code with record())."""
    UNREADABLE = "unreadable"
    """The cassette cannot be read, or not whole (damaged or cut short)."""


_STARTABLE = ("script", "entrypoint", "asgi")
"""Header fields of the runs `replay_cassette` starts by itself."""
_FINE = {Verdict.REPRODUCED, Verdict.FIXED, Verdict.SKIPPED}


@dataclass
class Result:
    path: Path
    verdict: Verdict
    detail: str = ""
    """One line: why, where."""
    message: str = ""
    """Everything the replay said of it (a divergence in full)."""
    expect: str = "reproduce"
    recorded_failure: bool = False
    seconds: float = 0.0
    chaos: list[tuple[int, str]] = field(default_factory=list)
    """(seed, what happened) of each chaos seed under which the run ended otherwise."""
    unstable: str = ""
    """With ``twice``: where two replays of the cassette differ, if they do."""

    @property
    def as_expected(self) -> bool:
        return self.verdict in _FINE and not self.chaos and not self.unstable


@dataclass
class CheckOptions:
    jobs: int = 1
    timeout: float = 300.0
    chaos: int = 0
    """Seeds of chaos replay per cassette, on top of the plain replay."""
    twice: bool = False
    """Audit stability: replay again, and under a chaos seed, and compare the runs."""
    trusted: bool = False
    """Run cassettes made elsewhere that run code from outside the working tree
    (``--yes``); without it they are refused, as `agentreplay replay` refuses them."""


def _classify(report: RunReport, expect: str, timeout: float) -> tuple[Verdict, str, str]:
    if report.timed_out:
        return Verdict.ERROR, f"timed out after {timeout:g} s", report.output
    verdict = report.verdict
    if verdict is None:
        lines = [line for line in report.output.splitlines() if line.strip()]
        return Verdict.ERROR, lines[-1] if lines else f"exit code {report.exit_code}", report.output
    message = verdict.divergence.message if verdict.divergence else verdict.summary
    if verdict.reproduced:
        if expect == "fixed":
            return Verdict.STILL_FAILING, verdict.summary, message
        return Verdict.REPRODUCED, verdict.summary, message
    if expect == "fixed":
        return Verdict.FIXED, verdict.summary, message
    if verdict.summary.startswith("not reproduced: recorded"):
        return Verdict.OUTCOME_CHANGED, verdict.summary, message
    return Verdict.DIVERGED, _where_it_diverged(verdict.summary, message), message


def _where_it_diverged(summary: str, message: str) -> str:
    """The summary, the first field that differs and the call site, on one line."""
    lines = message.splitlines()
    parts = [summary]
    if "  differences:" in lines:
        first = _words(lines[lines.index("  differences:") + 1].strip())
        parts.append(first if len(first) <= 200 else first[:199] + "…")
    parts += [line.strip() for line in lines if line.startswith("  call site: ")]
    return "; ".join(parts)


_STRINGS = re.compile(r"(?P<where>.+?): (?P<a>(?:'|\").*) != (?P<b>(?:'|\").*)")


def _words(line: str) -> str:
    """``where: 'old' != 'new'`` as ``where: …[-old-]{+new+}…``: the words that differ."""
    match = _STRINGS.fullmatch(line)
    if match is None:
        return line
    try:
        a, b = ast.literal_eval(match["a"]), ast.literal_eval(match["b"])
    except (ValueError, SyntaxError):
        return line
    if not (isinstance(a, str) and isinstance(b, str)):
        return line
    return f"{match['where']}: {plain(text_diff(a, b), context=30)}"


def _chaos(path: Path, seeds: int, timeout: float, trusted: bool) -> list[tuple[int, str]]:
    broke = []
    with tempfile.TemporaryDirectory(prefix="agentreplay-chaos-") as tmp:
        for seed in range(1, seeds + 1):
            schedule = Path(tmp) / f"{path.stem}.chaos{seed}.cassette"
            chaos = perturb(path, schedule, seed)
            report = replay_cassette(
                schedule, ReplayOptions(), capture=True, confirm=consent(trusted), timeout=timeout
            )
            verdict, detail, _ = _classify(report, "reproduce", timeout)
            if verdict is not Verdict.REPRODUCED:
                broke.append((seed, f"{detail} ({chaos['perturbation']})"))
    return broke


def check_one(path: Path, options: CheckOptions) -> Result:
    """Replay one cassette and say how it fared."""
    started = time.monotonic()
    try:
        with open_reader(path) as cassette:
            header = dict(cassette.header)
            outcome = cassette.outcome  # reads it all if it has no sound index
            damage = cassette.damage
    except CassetteError as exc:
        return Result(path, Verdict.UNREADABLE, str(exc))
    if damage is not None:  # a replay would run past the cut and diverge: not the code's doing
        detail = f"the cassette is damaged or truncated {damage.located}"
        count = damage.events_read
        read = (
            f"; the {plural(count, 'event')} before it can be read"
            if count
            else "; no event before it can be read"
        )
        return Result(path, Verdict.UNREADABLE, detail + read)
    result = Result(path, Verdict.SKIPPED, recorded_failure=bool(outcome and outcome.error))
    if not any(header.get(key) for key in _STARTABLE):
        result.detail = "recorded around code agentreplay cannot start by itself"
        return result
    try:
        result.expect = read_expectations(path)
        with tempfile.TemporaryDirectory(prefix="agentreplay-check-") as tmp:
            if options.twice:
                first = Path(tmp) / "first.cassette"
                report = replay_into(path, first, options.timeout, HASH_SEEDS[0], options.trusted)
                result.unstable = audit(
                    path, (report, first), options.timeout, Path(tmp), options.trusted
                )
            else:
                report = replay_cassette(
                    path,
                    ReplayOptions(),
                    capture=True,
                    confirm=consent(options.trusted),
                    timeout=options.timeout,
                )
    except (UsageError, CassetteError) as exc:
        result.verdict, result.detail = Verdict.ERROR, str(exc)
        return result
    result.verdict, result.detail, result.message = _classify(
        report, result.expect, options.timeout
    )
    if options.chaos and result.verdict is Verdict.REPRODUCED:
        result.chaos = _chaos(path, options.chaos, options.timeout, options.trusted)
    result.seconds = time.monotonic() - started
    return result


def check_all(
    cassettes: list[Path],
    options: CheckOptions,
    progress: Callable[[Result], None] | None = None,
) -> Iterator[Result]:
    """Replay every cassette, ``options.jobs`` at a time; results in the corpus's order."""
    with ThreadPoolExecutor(max(1, options.jobs)) as pool:
        futures = [pool.submit(check_one, path, options) for path in cassettes]
        for future in futures:
            result = future.result()
            if progress is not None:
                progress(result)
            yield result
