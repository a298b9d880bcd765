"""Reading steps of two runs again, for the details of the rows asked about."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from agentreplay.cassette.reader import CassetteReader, open_reader
from agentreplay.rundiff.fields import compare_fields, step_fields
from agentreplay.rundiff.ignore import Ignore
from agentreplay.rundiff.model import FieldChange, Row
from agentreplay.steps import Step, step_from_events

__all__ = ["CassetteLoader", "Source", "opened"]

Source = str | os.PathLike[str] | CassetteReader
"""A cassette path, or a cassette already open."""


@contextmanager
def opened(source: Source) -> Iterator[CassetteReader]:
    if isinstance(source, CassetteReader):
        yield source
        return
    with open_reader(source) as cassette:
        yield cassette


def _read_steps(cassette: CassetteReader, numbers: Iterable[int]) -> dict[int, Step]:
    infos = cassette.step_infos()
    found: dict[int, Step] = {}
    for number in sorted(set(numbers)):
        step = step_from_events(number, cassette.step(number), infos[number - 1].parent)
        if step is not None:
            found[number] = step
    return found


class CassetteLoader:
    """Reads steps of the two runs again, for the details of the rows asked about."""

    def __init__(self, a: Source, b: Source, ignore: Iterable[str] | Ignore) -> None:
        self.a, self.b = a, b
        self.ignore = ignore if isinstance(ignore, Ignore) else Ignore(tuple(ignore))

    def changes(self, rows: list[Row]) -> list[list[FieldChange]]:
        with opened(self.a) as ca, opened(self.b) as cb:
            steps_a = _read_steps(ca, (row.a.number for row in rows if row.a is not None))
            steps_b = _read_steps(cb, (row.b.number for row in rows if row.b is not None))
        found: list[list[FieldChange]] = []
        for row in rows:
            if row.a is None or row.b is None:
                found.append([])
                continue
            tree_a = self.ignore.strip(step_fields(steps_a[row.a.number]))
            tree_b = self.ignore.strip(step_fields(steps_b[row.b.number]))
            found.append(compare_fields(tree_a, tree_b))
        return found

    def steps(self, row: Row) -> tuple[Step | None, Step | None]:
        pair: list[Step | None] = []
        for source, ref in ((self.a, row.a), (self.b, row.b)):
            if ref is None:
                pair.append(None)
                continue
            with opened(source) as cassette:
                pair.append(_read_steps(cassette, [ref.number]).get(ref.number))
        return pair[0], pair[1]
