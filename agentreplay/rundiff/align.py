"""Aligning two sequences of steps.

`align` pairs the steps of one logical task in run A with those of the same
task in run B, in three passes of Myers' O((N+M)·D) shortest-edit-script
algorithm, where D is the number of steps inserted or removed in that pass:

1. on each step's content digest: identical steps become anchors;
2. between two anchors, on the step fingerprint (what the step asked for:
   kind, model or method and URL, tool name, request shape): a step whose
   answer changed is paired with its counterpart;
3. what is still unpaired, on a coarse key (kind, and model, host or name):
   a step whose request changed too is still paired, rather than shown as
   removed and inserted.

When the runs are similar, D is small and each pass costs about N + M + D²
comparisons. A pass whose D would pass `BUDGET` stops early and leaves the
stretch to the next pass (runs that changed everywhere, such as a new system
prompt in every call, are then aligned on fingerprints); the last pass falls
back to pairing in order, linear in N + M. `difflib.SequenceMatcher` does not
fit here: runs repeat the same fingerprint hundreds of times, and it either
treats such popular items as junk (nothing aligns) or goes quadratic.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

__all__ = ["BUDGET", "Pair", "align", "common", "myers"]

BUDGET = 400
"""Most insertions plus removals one pass looks for before it gives up."""

T = TypeVar("T")
Pair = tuple[int | None, int | None]
"""Indexes into A and B; None on the side that does not have the step."""


def myers(
    a: Sequence[Hashable], b: Sequence[Hashable], budget: int = BUDGET
) -> list[tuple[int, int]] | None:
    """The index pairs of a longest common subsequence of ``a`` and ``b`` (equal items),
    or None if more than ``budget`` insertions and removals separate them."""
    n, m = len(a), len(b)
    most = min(n + m, budget)
    offset = most + 1
    v = [0] * (2 * most + 3)
    trace: list[list[int]] = []
    for d in range(most + 1):
        trace.append(v[offset - d - 1 : offset + d + 2])
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]  # down: an item of b inserted
            else:
                x = v[offset + k - 1] + 1  # right: an item of a removed
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            v[offset + k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
    return None


def _backtrack(trace: list[list[int]], n: int, m: int) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    x, y = n, m
    for d in range(len(trace) - 1, 0, -1):
        window = trace[d]  # V before pass d, for k in -d-1..d+1
        k = x - y
        down = k == -d or (k != d and window[k + d] < window[k + d + 2])
        previous = k + 1 if down else k - 1
        px = window[previous + d + 1]
        py = px - previous
        sx, sy = (px, py + 1) if previous == k + 1 else (px + 1, py)
        while x > sx and y > sy:
            x, y = x - 1, y - 1
            pairs.append((x, y))
        x, y = px, py
    while x > 0 and y > 0:
        x, y = x - 1, y - 1
        pairs.append((x, y))
    pairs.reverse()
    return pairs


def _in_order(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Pairs of equal items, taken greedily in order, looking a few items ahead: linear."""
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
            continue
        ahead_b = next((k for k in range(j + 1, min(len(b), j + 8)) if b[k] == a[i]), None)
        ahead_a = next((k for k in range(i + 1, min(len(a), i + 8)) if a[k] == b[j]), None)
        if ahead_b is not None and (ahead_a is None or ahead_b - j <= ahead_a - i):
            j = ahead_b
        elif ahead_a is not None:
            i = ahead_a
        else:
            i, j = i + 1, j + 1
    return pairs


def _unique_anchors(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Pairs of items that occur once in ``a`` and once in ``b``, the longest run of them
    in the same order in both (patience diff's anchors): O(N log N)."""
    count_a = Counter(a)
    count_b = Counter(b)
    where_b = {item: j for j, item in enumerate(b) if count_b[item] == 1}
    candidates = [
        (i, where_b[item]) for i, item in enumerate(a) if count_a[item] == 1 and item in where_b
    ]
    tails: list[int] = []  # tails[k]: the smallest j ending an increasing run of length k+1
    tail_at: list[int] = []  # ... and the candidate it belongs to
    back: list[int] = []
    for index, (_, j) in enumerate(candidates):
        k = bisect.bisect_left(tails, j)
        back.append(tail_at[k - 1] if k else -1)
        if k == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[k] = j
            tail_at[k] = index
    chain: list[tuple[int, int]] = []
    at = tail_at[-1] if tail_at else -1
    while at >= 0:
        chain.append(candidates[at])
        at = back[at]
    chain.reverse()
    return chain


def common(
    a: Sequence[Hashable], b: Sequence[Hashable], *, last_resort: bool = False
) -> list[tuple[int, int]]:
    """Index pairs of equal items of ``a`` and ``b``, in order: the common prefix and
    suffix, then items unique to both as anchors (patience), then Myers between anchors.
    A stretch Myers gives up on is left unpaired, or paired in order if ``last_resort``."""
    n, m = len(a), len(b)
    head = 0
    while head < min(n, m) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    pairs = [(k, k) for k in range(head)]
    a_mid, b_mid = a[head : n - tail], b[head : m - tail]
    anchors = _unique_anchors(a_mid, b_mid) if a_mid and b_mid else []
    if not anchors:
        found = myers(a_mid, b_mid) if a_mid and b_mid else []
        if found is None:
            found = _in_order(a_mid, b_mid) if last_resort else []
        pairs += [(head + x, head + y) for x, y in found]
    else:
        i = j = 0
        for x, y in [*anchors, (len(a_mid), len(b_mid))]:
            inner = common(a_mid[i:x], b_mid[j:y], last_resort=last_resort)
            pairs += [(head + i + p, head + j + q) for p, q in inner]
            if x < len(a_mid):
                pairs.append((head + x, head + y))
            i, j = x + 1, y + 1
    pairs += [(n - tail + k, m - tail + k) for k in range(tail)]
    return pairs


def align(a: Sequence[T], b: Sequence[T], keys: Sequence[Callable[[T], Hashable]]) -> list[Pair]:
    """Every item of ``a`` and ``b`` once, in order, paired where they align: on
    ``keys[0]`` first, then on each next key between the pairs found so far."""
    out: list[Pair] = []
    _align(a, b, 0, len(a), 0, len(b), keys, 0, out)
    return out


def _align(
    a: Sequence[T],
    b: Sequence[T],
    i0: int,
    i1: int,
    j0: int,
    j1: int,
    keys: Sequence[Callable[[T], Hashable]],
    level: int,
    out: list[Pair],
) -> None:
    if i0 == i1 or j0 == j1 or level == len(keys):
        out.extend((i, None) for i in range(i0, i1))
        out.extend((None, j) for j in range(j0, j1))
        return
    key = keys[level]
    left = [key(item) for item in a[i0:i1]]
    right = [key(item) for item in b[j0:j1]]
    pairs = common(left, right, last_resort=level == len(keys) - 1)
    i, j = i0, j0
    for x, y in pairs:
        _align(a, b, i, i0 + x, j, j0 + y, keys, level + 1, out)
        out.append((i0 + x, j0 + y))
        i, j = i0 + x + 1, j0 + y + 1
    _align(a, b, i, i1, j, j1, keys, level + 1, out)
