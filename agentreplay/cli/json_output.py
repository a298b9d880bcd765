"""The ``--json`` form of ``agentreplay show``."""

from __future__ import annotations

from typing import Any

from agentreplay.cassette import Cassette
from agentreplay.steps import Summary, iter_steps

__all__ = ["run_json"]


def run_json(cassette: Cassette) -> dict[str, Any]:
    summary = Summary()
    steps = []
    for step in iter_steps(cassette):
        summary.add(step)
        steps.append(step.to_plain())
    outcome = cassette.outcome
    ends = [s["start"] + (s["duration"] or 0) for s in steps]
    if outcome is not None:
        ends.append(outcome.at / 1e9)
    summary.wall = max(ends, default=0.0)
    return {
        "file": str(cassette.path),
        "header": cassette.header,
        "steps": steps,
        "summary": vars(summary),
        "outcome": None
        if outcome is None
        else {
            "error": None
            if outcome.error is None
            else {"type": outcome.error.type, "message": outcome.error.message},
            "value": outcome.value_repr,
        },
    }
