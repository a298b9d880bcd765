"""Short human forms: costs, counts and the summary line."""

from __future__ import annotations

import pytest

import agentreplay.humanize as fmt
from agentreplay.steps import Summary


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.000042, "$0.000042"),
        (0.00042, "$0.00042"),
        (0.0042, "$0.0042"),
        (0.0123, "$0.0123"),
        (0.5, "$0.5000"),
        (12.345, "$12.35"),
        (0.0, "$0.0000"),
        (None, ""),
    ],
)
def test_a_cost_keeps_two_significant_digits_however_small(value: float | None, text: str) -> None:
    assert fmt.cost(value) == text


def test_one_of_a_kind_is_singular() -> None:
    line = fmt.summary_line(Summary(steps=1, llm_calls=1, counted_calls=1), None, None)
    assert line.startswith("1 step · 1 LLM call · ")


def test_many_are_plural() -> None:
    line = fmt.summary_line(Summary(steps=2, llm_calls=2, counted_calls=2), None, None)
    assert line.startswith("2 steps · 2 LLM calls · 0 in / 0 out tokens")


def test_a_run_without_llm_calls_counts_no_tokens() -> None:
    line = fmt.summary_line(Summary(steps=2, llm_calls=0, wall=0.5), None, None)
    assert line.startswith("2 steps · 0 LLM calls · 500 ms wall")


def test_tokens_no_call_reported_are_unknown_not_zero() -> None:
    line = fmt.summary_line(Summary(steps=2, llm_calls=2, counted_calls=0), None, None)
    assert "tokens unknown" in line and "0 in" not in line


def test_calls_that_reported_no_tokens_are_named_beside_the_totals() -> None:
    summary = Summary(steps=3, llm_calls=3, counted_calls=2, input_tokens=10, output_tokens=4)
    line = fmt.summary_line(summary, None, None)
    assert "10 in / 4 out tokens (+ 1 call that reported none)" in line
