"""Steps: what a person navigates in a recorded run (see `model.py`), built from a
cassette's events (`builder.py`), and the cassette that offers them (`cassette.py`)."""

from __future__ import annotations

from agentreplay.steps.builder import StepSource, iter_steps, step_from_events
from agentreplay.steps.cassette import Cassette, open_cassette
from agentreplay.steps.model import BODY_LIMIT, Step, Summary, body_plain, price

__all__ = [
    "BODY_LIMIT",
    "Cassette",
    "Step",
    "StepSource",
    "Summary",
    "body_plain",
    "iter_steps",
    "open_cassette",
    "price",
    "step_from_events",
]
