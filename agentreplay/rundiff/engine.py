"""`diff(a, b)`: read two runs, match their tasks, align their steps, judge each pair.

1. Each cassette is read once, step by step, into small digests
   (`digest.py`): nothing of a step is kept but its digest and table figures.
   Two big runs are read at once, B in a second process (`parallel.py`).
2. Logical tasks are matched by id, then, for ids only one run has, by the
   fingerprint of their first step (a task started in another order).
3. Within each matched task the steps are aligned (`align.py`).
4. A pair is the same when its content digests are equal (ignored fields
   left out), else changed. Field changes are worked out only when asked for,
   by reading the pair's two steps again (`CassetteReader.step(n)`), so a long run
   with few changes costs about two streaming reads.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from agentreplay import jsondiff
from agentreplay.cassette.compare import same_error, same_text
from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.cassette.reader import CassetteReader
from agentreplay.rundiff.align import align
from agentreplay.rundiff.digest import StepDigest, reads_between
from agentreplay.rundiff.fields import plain
from agentreplay.rundiff.ignore import Ignore
from agentreplay.rundiff.loader import CassetteLoader, Source, opened
from agentreplay.rundiff.model import FieldChange, OutcomeDiff, Row, Verdict
from agentreplay.rundiff.parallel import read_runs
from agentreplay.rundiff.result import RunDiff

__all__ = ["diff"]


def diff(a: Source, b: Source, *, ignore: Iterable[str] = ()) -> RunDiff:
    """Compare two recorded runs step by step.

    ``a`` and ``b`` are cassette paths or open cassettes (`agentreplay.open`). The
    result is a `RunDiff`: the aligned rows (same, changed, only in A, only in B) with
    time/token/cost deltas and read summaries, the first divergence, and both outcomes.
    Fields matching `DEFAULT_IGNORE` (ids, dates, request ids...) never count;
    ``ignore`` adds path patterns (``"params.seed"``, ``"response.body.served"``), and
    ``"!pattern"`` takes back a default one. A cassette that is missing, not a cassette,
    or damaged raises `CassetteError`; a bad pattern raises `UsageError`.
    """
    rules = Ignore.of(ignore)
    with opened(a) as ca, opened(b) as cb:
        (side_a, digests_a, outcome_a), (side_b, digests_b, outcome_b) = read_runs(
            ca, cb, rules, in_parallel=not isinstance(b, CassetteReader)
        )
        tasks = _match_tasks(digests_a, digests_b)
        rows = _rows(digests_a, digests_b, tasks)
        outcomes = _outcomes(outcome_a, outcome_b)
        result = RunDiff(
            side_a, side_b, rows, tasks, outcomes, rules.patterns, CassetteLoader(ca, cb, rules)
        )
        first = result.first_divergence
        if first is not None:
            result.load_changes([first])  # while both cassettes are open, their index read
    result._loader = CassetteLoader(a, b, rules)
    return result


def _match_tasks(
    a: dict[str, list[StepDigest]], b: dict[str, list[StepDigest]]
) -> list[tuple[str | None, str | None]]:
    """Tasks with the same id, then the rest by the fingerprint of their first step."""
    pairs: list[tuple[str | None, str | None]] = [(task, task) for task in a if task in b]
    left = [task for task in a if task not in b]
    right = [task for task in b if task not in a]
    for task in left:
        first = a[task][0].fingerprint
        match = next((other for other in right if b[other][0].fingerprint == first), None)
        if match is not None:
            right.remove(match)
        pairs.append((task, match))
    pairs += [(None, task) for task in right]
    return pairs


def _rows(
    a: dict[str, list[StepDigest]],
    b: dict[str, list[StepDigest]],
    tasks: list[tuple[str | None, str | None]],
) -> list[Row]:
    found: list[tuple[StepDigest | None, StepDigest | None]] = []
    keys = (
        lambda d: d.content,
        lambda d: d.fingerprint,
        lambda d: d.coarse,
    )
    for task_a, task_b in tasks:
        steps_a = a.get(task_a, []) if task_a is not None else []
        steps_b = b.get(task_b, []) if task_b is not None else []
        for i, j in align(steps_a, steps_b, keys):
            found.append((None if i is None else steps_a[i], None if j is None else steps_b[j]))
    found = _in_run_order(found)
    rows = []
    for index, (da, db) in enumerate(found):
        if da is None or db is None:
            verdict = Verdict.ONLY_B if da is None else Verdict.ONLY_A
            reads = None
        else:
            verdict = Verdict.SAME if da.content == db.content else Verdict.CHANGED
            reads = reads_between(da.reads, db.reads)
        rows.append(
            Row(
                index,
                None if da is None else da.ref,
                None if db is None else db.ref,
                verdict,
                reads,
            )
        )
    return rows


def _in_run_order(
    pairs: list[tuple[StepDigest | None, StepDigest | None]],
) -> list[tuple[StepDigest | None, StepDigest | None]]:
    """Rows ordered by A's step numbers; a step only B has comes right after the row
    whose B step precedes it."""
    partner = sorted((db.ref.number, da.ref.number) for da, db in pairs if da and db)
    b_numbers = [number for number, _ in partner]

    def anchor(number: int) -> int:
        at = bisect.bisect_left(b_numbers, number)
        return partner[at - 1][1] if at else 0

    def key(pair: tuple[StepDigest | None, StepDigest | None]) -> tuple[int, int, int]:
        da, db = pair
        if da is not None:
            return (da.ref.number, 0, db.ref.number if db else 0)
        assert db is not None
        return (anchor(db.ref.number), 1, db.ref.number)

    return sorted(pairs, key=key)


def _outcome_tree(outcome: RunOutcome | None) -> dict[str, Any]:
    if outcome is None:
        return {"ended": False}
    error = outcome.error
    return {
        "ended": True,
        "error": None if error is None else {"type": error.type, "message": error.message},
        "value": plain(outcome.value) if error is None else None,
    }


def _describe(outcome: RunOutcome | None) -> str:
    if outcome is None:
        return "no outcome (the recording stopped before the run ended)"
    if outcome.error is not None:
        return f"raised {_one_line(outcome.error)}"
    if outcome.value_repr.startswith("exit status "):
        return f"exited with status {outcome.value_repr.removeprefix('exit status ')}"
    return f"returned {outcome.value_repr}" if outcome.value_repr else "completed"


def _one_line(error: ErrorInfo) -> str:
    """``Type('message')``; of a message of several lines, its first, then an ellipsis
    (the report shows the whole message below)."""
    first, more, _ = error.message.partition("\n")
    if not more:
        return str(error)
    return f"{error.type.rsplit('.', 1)[-1]}({first + ' …'!r})"


def _outcomes(a: RunOutcome | None, b: RunOutcome | None) -> OutcomeDiff:
    """How each run ended, and what differs as the verdict counts it (`same_error`,
    `same_text`)."""
    same = a is not None and b is not None and a.error and b.error and same_error(a.error, b.error)
    changes = tuple(
        FieldChange(jsondiff.path_text(c.path, ""), c.kind, c.old, c.new)
        for c in jsondiff.diff(_outcome_tree(a), _outcome_tree(b))
        if not (same and c.path[:1] == ("error",))
        and not (isinstance(c.old, str) and isinstance(c.new, str) and same_text(c.old, c.new))
    )
    return OutcomeDiff(_describe(a), _describe(b), changes)
