"""Cassette format v1: events, their plain-data codec, frames, writer and reader."""

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
from agentreplay.cassette.reader import Cassette, open_cassette
from agentreplay.cassette.tracking import StepInfo
from agentreplay.cassette.writer import CassetteWriter

__all__ = [
    "Cassette",
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
    "open_cassette",
]
