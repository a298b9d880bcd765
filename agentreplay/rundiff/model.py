"""What `agentreplay.diff` returns: two runs aligned step by step.

`RunDiff.rows` is the aligned table, in run order: each `Row` pairs a step of
run A with a step of run B (or stands for a step only one run has), with its
`Verdict`, its `Deltas` (time, tokens, cost: reported, never a verdict) and a
summary of its clock and entropy reads. A row's field changes are worked out
the first time they are asked for (`Row.changes`), from the two steps read
again from their cassettes; `RunDiff.steps(row)` gives those steps whole.

A screen walks it row by row::

    result = agentreplay.diff("a.cassette", "b.cassette")
    for row in result.rows:
        a = row.a.number if row.a else "-"
        b = row.b.number if row.b else "-"
        print(a, b, row.kind, row.name, row.verdict.value, row.deltas.duration)
        if row.verdict is Verdict.CHANGED:
            for change in row.changes:          # read on first access
                print("  ", change.path, change.kind, change.old, change.new)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from agentreplay.rundiff.text import Piece, text_diff

if TYPE_CHECKING:
    from agentreplay.steps import Step

__all__ = [
    "Deltas",
    "FieldChange",
    "OutcomeDiff",
    "Reads",
    "Row",
    "RunSide",
    "StepRef",
    "Verdict",
]


class Verdict(StrEnum):
    """How an aligned row compares."""

    SAME = "same"
    """Both runs have the step, and nothing that counts differs."""
    CHANGED = "changed"
    """Both runs have the step, and a field that counts differs (see `Row.changes`)."""
    ONLY_A = "only_a"
    """Only run A has this step (B left it out)."""
    ONLY_B = "only_b"
    """Only run B has this step (B inserted it)."""

    @property
    def words(self) -> str:
        return {"only_a": "only in A", "only_b": "only in B"}.get(self.value, self.value)


@dataclass(frozen=True)
class FieldChange:
    """One field that differs. ``path`` is written like ``messages[3].content`` or
    ``tool_calls[0].arguments.city``; ``kind`` is ``added`` (only in B: ``new``),
    ``removed`` (only in A: ``old``) or ``changed``. For a chat message or a tool offered,
    ``label`` is its role or name; an index in ``path`` is A's, and ``b_path`` is B's
    path when the item sits elsewhere in B."""

    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None
    label: str | None = None
    b_path: str | None = None

    def text_diff(self) -> list[Piece] | None:
        """Word (or line) pieces when both sides are text, else None."""
        if isinstance(self.old, str) and isinstance(self.new, str):
            return text_diff(self.old, self.new)
        return None

    def to_plain(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> FieldChange:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class StepRef:
    """One run's step in a row: what the step table shows of it."""

    number: int
    task: str
    kind: str
    name: str
    status: str
    duration: float | None = None
    ttft: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None

    def to_plain(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_plain(cls, data: dict[str, Any] | None) -> StepRef | None:
        if data is None:
            return None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _minus(b: float | None, a: float | None) -> float | None:
    return None if a is None or b is None else b - a


@dataclass(frozen=True)
class Deltas:
    """B minus A, for what both steps report (None where either does not)."""

    duration: float | None = None
    ttft: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None

    @classmethod
    def between(cls, a: StepRef | None, b: StepRef | None) -> Deltas:
        if a is None or b is None:
            return cls()
        tokens_in = _minus(b.input_tokens, a.input_tokens)
        tokens_out = _minus(b.output_tokens, a.output_tokens)
        return cls(
            _minus(b.duration, a.duration),
            _minus(b.ttft, a.ttft),
            None if tokens_in is None else int(tokens_in),
            None if tokens_out is None else int(tokens_out),
            _minus(b.cost, a.cost),
        )


@dataclass(frozen=True)
class Reads:
    """Clock reads and entropy draws of a pair, summarised: counts (A, B), and whether
    the values read differ. Never part of the verdict."""

    clock: tuple[int, int]
    entropy: tuple[int, int]
    clock_values_differ: bool = False
    entropy_values_differ: bool = False

    def summary(self) -> str:
        parts = []
        for what, drawn, (a, b), differ in (
            ("clock reads", "clock values", self.clock, self.clock_values_differ),
            ("random draws", "random values", self.entropy, self.entropy_values_differ),
        ):
            if a != b:
                parts.append(f"{what} {a} → {b}")
            elif differ:
                parts.append(f"{drawn} differ")
        return "; ".join(parts)

    def to_plain(self) -> dict[str, Any]:
        return {
            "clock": list(self.clock),
            "entropy": list(self.entropy),
            "clock_values_differ": self.clock_values_differ,
            "entropy_values_differ": self.entropy_values_differ,
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any] | None) -> Reads | None:
        if data is None:
            return None
        clock, entropy = data["clock"], data["entropy"]
        return cls(
            (clock[0], clock[1]),
            (entropy[0], entropy[1]),
            bool(data.get("clock_values_differ")),
            bool(data.get("entropy_values_differ")),
        )


class Owner(Protocol):
    """What a row asks of the diff it belongs to (a `RunDiff`)."""

    def load_changes(self, rows: list[Row] | None = None) -> None: ...


class Loader(Protocol):
    """Reads steps back from the two cassettes, for the details of a row."""

    def changes(self, rows: list[Row]) -> list[list[FieldChange]]: ...

    def steps(self, row: Row) -> tuple[Step | None, Step | None]: ...


@dataclass(eq=True)
class Row:
    """One line of the aligned table. ``a`` and ``b`` are the two runs' steps (None on
    the side that does not have it); ``reads`` is set when reads differ."""

    index: int
    a: StepRef | None
    b: StepRef | None
    verdict: Verdict
    reads: Reads | None = None
    _changes: list[FieldChange] | None = field(default=None, compare=False, repr=False)
    _owner: Owner | None = field(default=None, compare=False, repr=False)

    @property
    def task(self) -> str:
        ref = self.a or self.b
        assert ref is not None
        return ref.task

    @property
    def kind(self) -> str:
        ref = self.a or self.b
        assert ref is not None
        return ref.kind

    @property
    def name(self) -> str:
        ref = self.b if self.a is None else self.a
        assert ref is not None
        if self.a is not None and self.b is not None and self.b.name != self.a.name:
            return f"{self.a.name} → {self.b.name}"
        return ref.name

    @property
    def deltas(self) -> Deltas:
        return Deltas.between(self.a, self.b)

    @property
    def changes(self) -> list[FieldChange]:
        """What differs, field by field (empty unless the verdict is CHANGED). Read from
        the cassettes on first access, then kept."""
        if self._changes is None:
            if self.verdict is not Verdict.CHANGED:
                self._changes = []
            else:
                assert self._owner is not None, "a row made outside agentreplay.diff"
                self._owner.load_changes([self])
        assert self._changes is not None
        return self._changes

    def to_plain(self) -> dict[str, Any]:
        return {
            "a": None if self.a is None else self.a.to_plain(),
            "b": None if self.b is None else self.b.to_plain(),
            "verdict": self.verdict.value,
            "deltas": vars(self.deltas),
            "reads": None if self.reads is None else self.reads.to_plain(),
            "changes": [change.to_plain() for change in self.changes],
        }


@dataclass(frozen=True)
class RunSide:
    """One of the two runs: its cassette, run id, and number of steps."""

    path: str
    run_id: str | None
    steps: int


@dataclass(frozen=True)
class OutcomeDiff:
    """How each run ended (``a``, ``b`` in words) and what differs between the two
    (``changes`` on ``value`` and ``error``)."""

    a: str
    b: str
    changes: tuple[FieldChange, ...] = ()

    @property
    def same(self) -> bool:
        return not self.changes

    def to_plain(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "same": self.same,
            "changes": [change.to_plain() for change in self.changes],
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> OutcomeDiff:
        changes = tuple(FieldChange.from_plain(c) for c in data.get("changes") or ())
        return cls(data["a"], data["b"], changes)
