"""Run diff: two recorded runs aligned step by step (`agentreplay.diff`).

`diff(a, b)` returns a `RunDiff`: its ``rows`` pair each step of run A with
its counterpart in run B, per logical task, with a `Verdict` (same, changed,
only in A, only in B), time/token/cost `Deltas` and a summary of clock and
entropy `Reads`; a changed row lists its `FieldChange` s (``messages[3].content``,
``tool_calls[0].arguments.city``...) when asked. `DEFAULT_IGNORE` names the
fields that never count as a difference. See docs/diff.md.
"""

from __future__ import annotations

from agentreplay.rundiff.align import BUDGET
from agentreplay.rundiff.engine import diff
from agentreplay.rundiff.ignore import DEFAULT_IGNORE
from agentreplay.rundiff.model import (
    Deltas,
    FieldChange,
    OutcomeDiff,
    Reads,
    Row,
    RunSide,
    StepRef,
    Verdict,
)
from agentreplay.rundiff.result import RunDiff
from agentreplay.rundiff.text import text_diff

__all__ = [
    "BUDGET",
    "DEFAULT_IGNORE",
    "Deltas",
    "FieldChange",
    "OutcomeDiff",
    "Reads",
    "Row",
    "RunDiff",
    "RunSide",
    "StepRef",
    "Verdict",
    "diff",
    "text_diff",
]
