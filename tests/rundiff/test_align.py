from __future__ import annotations

import difflib
import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from agentreplay.rundiff.align import align, common, myers


def _lcs_length(a: list[int], b: list[int]) -> int:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


@given(st.lists(st.integers(0, 4), max_size=30), st.lists(st.integers(0, 4), max_size=30))
def test_myers_finds_a_longest_common_subsequence(a: list[int], b: list[int]) -> None:
    pairs = myers(a, b, budget=len(a) + len(b))
    assert pairs is not None
    assert all(a[i] == b[j] for i, j in pairs)
    assert all(i1 < i2 and j1 < j2 for (i1, j1), (i2, j2) in itertools.pairwise(pairs))
    # difflib's matching blocks are a common subsequence, so never longer than Myers'
    assert len(pairs) >= _lcs_length(a, b)


def test_myers_gives_up_past_its_budget() -> None:
    assert myers(list(range(50)), list(range(50, 100)), budget=10) is None
    assert myers([1, 2, 3], [1, 9, 2, 3], budget=1) == [(0, 0), (1, 2), (2, 3)]


def test_common_pairs_repeated_items_cheaply_around_unique_anchors() -> None:
    period = ["llm", "http", "llm", "http", "tool"]
    a = period * 2000
    b = list(a)
    del b[5000]
    b.insert(7000, "extra")
    pairs = common(a, b)
    assert len(pairs) == len(a) - 1
    assert all(a[i] == b[j] for i, j in pairs)


def test_align_pairs_changed_items_on_a_later_key() -> None:
    # (content, fingerprint): B changed the answer of item 1 and inserted a step after it
    a = [("c1", "llm"), ("c2", "http"), ("c3", "llm")]
    b = [("c1", "llm"), ("c2x", "http"), ("new", "tool"), ("c3", "llm")]
    keys = [lambda item: item[0], lambda item: item[1]]
    assert align(a, b, keys) == [(0, 0), (1, 1), (None, 2), (2, 3)]


def test_align_falls_back_to_pairing_in_order_when_everything_differs() -> None:
    rng = random.Random(1)
    a = [rng.random() for _ in range(3000)]
    b = [rng.random() for _ in range(3000)]
    pairs = align(a, b, [lambda x: x, lambda x: "same kind"])
    assert [pair for pair in pairs if None in pair] == []
    assert pairs[:2] == [(0, 0), (1, 1)]
