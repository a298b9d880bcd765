"""Cassette format v1: events, their plain-data codec, frames, writer and reader.

This layer knows bytes and events only: no session, no provider, no step model.
"""

from __future__ import annotations

from agentreplay.cassette.events import (
    ClockRead,
    EntropyDraw,
    ErrorInfo,
    Event,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.reader import CassetteReader, open_reader
from agentreplay.cassette.tracking import StepInfo
from agentreplay.cassette.writer import CassetteWriter

__all__ = [
    "CassetteReader",
    "CassetteWriter",
    "ClockRead",
    "EntropyDraw",
    "ErrorInfo",
    "Event",
    "HttpChunk",
    "HttpEnd",
    "HttpError",
    "HttpRequest",
    "HttpResponse",
    "RunOutcome",
    "StepEnd",
    "StepInfo",
    "StepStart",
    "ToolCall",
    "ToolResult",
    "open_reader",
]
