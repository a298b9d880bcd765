"""The ``--json`` form of ``agentreplay show``."""

from __future__ import annotations

from typing import Any

from agentreplay.steps import Cassette, Summary, iter_steps

__all__ = ["run_json"]


def run_json(cassette: Cassette) -> dict[str, Any]:
    summary = Summary()
    steps = []
    for step in iter_steps(cassette):
        summary.add(step)
        steps.append(step.to_plain())
    outcome = cassette.outcome
    summary.ended(outcome)
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
        "unrecorded": cassette.unrecorded,
    }
