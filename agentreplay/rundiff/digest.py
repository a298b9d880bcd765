"""One streaming pass over a cassette: a small digest of each step.

Each step is decoded once by `agentreplay.steps.iter_steps`, turned into its
field tree, stripped of ignored fields and reduced to a content digest, a
fingerprint, a coarse key and the figures of the step table; the step itself
is then dropped. Clock reads and entropy draws are counted and hashed per
step on the way past. So a run of any length is compared holding a few
hundred bytes per step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentreplay.cassette.events import ClockRead, EntropyDraw, Event, RunOutcome
from agentreplay.cassette.reader import CassetteReader
from agentreplay.cassette.tracking import StepInfo
from agentreplay.rundiff.fields import coarse_key, content_digest, fingerprint, step_fields
from agentreplay.rundiff.ignore import Ignore
from agentreplay.rundiff.model import Reads, RunSide, StepRef
from agentreplay.steps import Step, iter_steps

__all__ = ["RunRead", "StepDigest", "digest_steps", "read_run", "reads_between", "step_ref"]


@dataclass(slots=True)
class StepDigest:
    """What the alignment and the verdict need of one step."""

    ref: StepRef
    content: bytes
    fingerprint: Hashable
    coarse: Hashable
    reads: list[int] | None  # clock count, entropy count, clock hash, entropy hash


class _Tap:
    """The cassette as `iter_steps` reads it, counting each step's reads on the way."""

    def __init__(self, cassette: CassetteReader) -> None:
        self.cassette = cassette
        self.reads: dict[int, list[int]] = {}

    def step_infos(self) -> list[StepInfo]:
        return self.cassette.step_infos()

    def events_with_steps(self, *, errors: Any = "raise") -> Iterator[tuple[int, Event]]:
        reads = self.reads
        for pair in self.cassette.events_with_steps(errors=errors):
            kind = type(pair[1])
            if kind is ClockRead or kind is EntropyDraw:
                self._count(reads, *pair)
            yield pair

    @staticmethod
    def _count(reads: dict[int, list[int]], number: int, event: Event) -> None:
        if not number:
            return
        found = reads.get(number)
        if found is None:
            found = reads[number] = [0, 0, 0, 0]
        if isinstance(event, ClockRead):
            found[0] += 1
            found[2] = _chain(found[2], event.clock, event.value)
        elif isinstance(event, EntropyDraw):
            found[1] += 1
            found[3] = _chain(found[3], event.source, event.data)


def _chain(before: int, *values: object) -> int:
    """A digest of ``before`` and ``values``: unlike `hash` of a str, the same in every
    process, so that runs read in two processes compare."""
    text = repr((before, *values)).encode("utf-8", "backslashreplace")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def step_ref(step: Step) -> StepRef:
    llm = step.llm
    return StepRef(
        step.number,
        step.task,
        step.kind,
        step.label,
        step.status,
        step.duration,
        None if llm is None else llm.ttft,
        None if llm is None else llm.input_tokens,
        None if llm is None else llm.output_tokens,
        step.cost,
    )


def digest_steps(cassette: CassetteReader, ignore: Ignore) -> Iterator[StepDigest]:
    """Each step's digest, in step order. A damaged cassette raises `CassetteError`."""
    tap = _Tap(cassette)
    for step in iter_steps(tap, errors="raise", keep_exchange=True):
        tree = step_fields(step)
        yield StepDigest(
            step_ref(step),
            content_digest(ignore.strip(tree)),
            fingerprint(step, tree),
            coarse_key(step),
            tap.reads.pop(step.number, None),
        )


RunRead = tuple[RunSide, dict[str, list[StepDigest]], RunOutcome | None]
"""One run as the diff holds it: its side, its step digests by task, its outcome."""


def read_run(cassette: CassetteReader, ignore: Ignore) -> RunRead:
    """Every step's digest, grouped by task, with the run's side and outcome."""
    by_task: dict[str, list[StepDigest]] = {}
    count = 0
    for digest in digest_steps(cassette, ignore):
        by_task.setdefault(digest.ref.task, []).append(digest)
        count += 1
    run_id = cassette.header.get("run_id")
    side = RunSide(str(Path(cassette.path)), run_id if isinstance(run_id, str) else None, count)
    return side, by_task, cassette.outcome


def reads_between(a: list[int] | None, b: list[int] | None) -> Reads | None:
    """The reads of a pair, when they differ in count or value; else None."""
    a, b = a or [0, 0, 0, 0], b or [0, 0, 0, 0]
    if a == b:
        return None
    return Reads((a[0], b[0]), (a[1], b[1]), a[2] != b[2], a[3] != b[3])
