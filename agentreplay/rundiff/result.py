"""`RunDiff`: the whole comparison of two runs, and its JSON form."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentreplay.errors import UsageError
from agentreplay.rundiff.loader import CassetteLoader
from agentreplay.rundiff.model import (
    FieldChange,
    Loader,
    OutcomeDiff,
    Reads,
    Row,
    RunSide,
    StepRef,
    Verdict,
)

if TYPE_CHECKING:
    from agentreplay.steps import Step

__all__ = ["RunDiff"]

FORMAT = 1
"""Version of the JSON form (`RunDiff.to_plain`)."""


@dataclass(eq=True)
class RunDiff:
    """Two runs aligned step by step. ``rows`` is the aligned table in run order;
    ``tasks`` the logical tasks matched between the runs, (A's id, B's id), None for a
    task only one run has; ``outcome`` how each run ended; ``ignore`` the path patterns
    that did not count (see `agentreplay.rundiff.DEFAULT_IGNORE`)."""

    a: RunSide
    b: RunSide
    rows: list[Row]
    tasks: list[tuple[str | None, str | None]]
    outcome: OutcomeDiff
    ignore: tuple[str, ...]
    _loader: Loader | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for row in self.rows:
            row._owner = self

    # -- the verdict ---------------------------------------------------------
    @property
    def counts(self) -> Counter[Verdict]:
        """How many rows have each verdict."""
        return Counter(row.verdict for row in self.rows)

    @property
    def identical(self) -> bool:
        """No row differs and both runs ended the same way."""
        return self.outcome.same and all(row.verdict is Verdict.SAME for row in self.rows)

    @property
    def first_divergence(self) -> Row | None:
        """The earliest row that is not the same, or None."""
        return next((row for row in self.rows if row.verdict is not Verdict.SAME), None)

    def summary(self) -> str:
        """``identical``, or ``2 changed, 0 only in A, 1 only in B; first divergence at
        step 4 / step 4`` (and ``; the outcome differs`` when it does)."""
        if self.identical:
            return "identical"
        counts = self.counts
        text = (
            f"{counts[Verdict.CHANGED]} changed, {counts[Verdict.ONLY_A]} only in A, "
            f"{counts[Verdict.ONLY_B]} only in B"
        )
        first = self.first_divergence
        if first is not None:
            a = f"step {first.a.number}" if first.a else "-"
            b = f"step {first.b.number}" if first.b else "-"
            text += f"; first divergence at {a} / {b}"
        if not self.outcome.same:
            text += f"; the outcome differs ({self.outcome.a} / {self.outcome.b})"
        return text

    # -- finding rows --------------------------------------------------------
    def row(self, *, a: int | None = None, b: int | None = None) -> Row:
        """The row holding step ``a`` of run A (or step ``b`` of run B)."""
        if (a is None) == (b is None):
            raise UsageError("row(): give a step number of run A (a=) or of run B (b=)")
        side, number = ("a", a) if a is not None else ("b", b)
        for row in self.rows:
            ref = row.a if side == "a" else row.b
            if ref is not None and ref.number == number:
                return row
        run = self.a if side == "a" else self.b
        raise UsageError(f"step {number} is not in {run.path} (it has {run.steps} steps)")

    # -- details, read on demand --------------------------------------------
    def load_changes(self, rows: list[Row] | None = None) -> None:
        """Work out the field changes of ``rows`` (every changed row by default) at once,
        reading each cassette once; `Row.changes` then has them."""
        wanted = [
            row
            for row in (self.rows if rows is None else rows)
            if row._changes is None and row.verdict is Verdict.CHANGED
        ]
        for row in self.rows if rows is None else rows:
            if row.verdict is not Verdict.CHANGED and row._changes is None:
                row._changes = []
        if not wanted:
            return
        if self._loader is None:
            raise UsageError("this diff has no cassettes to read its steps from")
        for row, found in zip(wanted, self._loader.changes(wanted), strict=True):
            row._changes = found

    def steps(self, row: Row) -> tuple[Step | None, Step | None]:
        """The two steps of ``row``, read whole from their cassettes (None for a side
        that does not have it)."""
        if self._loader is None:
            raise UsageError("this diff has no cassettes to read its steps from")
        return self._loader.steps(row)

    # -- JSON ----------------------------------------------------------------
    def to_plain(self) -> dict[str, Any]:
        """Everything as JSON-ready data, every changed row's changes included."""
        self.load_changes()
        first = self.first_divergence
        return {
            "format": FORMAT,
            "summary": self.summary(),
            "identical": self.identical,
            "a": vars(self.a),
            "b": vars(self.b),
            "ignore": list(self.ignore),
            "tasks": [list(pair) for pair in self.tasks],
            "counts": {verdict.value: self.counts[verdict] for verdict in Verdict},
            "first_divergence": None if first is None else first.index,
            "outcome": self.outcome.to_plain(),
            "rows": [row.to_plain() for row in self.rows],
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> RunDiff:
        """The result `to_plain` (or ``agentreplay diff --json``) wrote. Steps are read
        again from the cassettes it names, if they are still there."""
        if data.get("format") != FORMAT:
            raise UsageError(f"not a run diff of format {FORMAT}: {data.get('format')!r}")
        rows = [
            Row(
                index,
                StepRef.from_plain(item["a"]),
                StepRef.from_plain(item["b"]),
                Verdict(item["verdict"]),
                Reads.from_plain(item.get("reads")),
                [FieldChange.from_plain(c) for c in item.get("changes") or ()],
            )
            for index, item in enumerate(data["rows"])
        ]
        a, b = RunSide(**data["a"]), RunSide(**data["b"])
        ignore = tuple(data["ignore"])
        return cls(
            a,
            b,
            rows,
            [(pair[0], pair[1]) for pair in data["tasks"]],
            OutcomeDiff.from_plain(data["outcome"]),
            ignore,
            CassetteLoader(a.path, b.path, ignore),
        )
