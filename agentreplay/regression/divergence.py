"""A divergence as a failing test reports it."""

from __future__ import annotations

from agentreplay.errors import DivergenceError

__all__ = ["divergence_text"]


def divergence_text(divergence: DivergenceError) -> str:
    """The divergence's message; when a model call's request changed, followed by its
    changes field by field, from the run diff engine (``agentreplay diff`` shows the
    same): messages aligned by role, word diffs of changed text."""
    text = str(divergence)
    expected, actual = divergence.expected_request, divergence.actual_request
    if expected is None or actual is None:
        return text
    from agentreplay.rundiff.report import change_lines, is_model_call, request_changes

    if not (is_model_call(expected) and is_model_call(actual)):
        return text
    lines = change_lines(request_changes(expected, actual))
    if not lines:
        return text
    heading = "  the model call, field by field (messages aligned by role):"
    return "\n".join([text, heading, *(f"    {line}" for line in lines)])
