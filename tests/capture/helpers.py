"""What the capture tests check in a sink: its manifest, and each cassette's own steps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import agentreplay


def manifest(sink: Path) -> list[dict[str, Any]]:
    entries = []
    for path in sorted(sink.glob("*/manifest.jsonl")):
        entries += [json.loads(line) for line in path.read_text().splitlines() if line]
    return entries


def question_of(cassette: Path) -> set[int]:
    """The question numbers a captured cassette's steps are about: its model calls'
    messages and its tool calls' URLs. A run's cassette must name its own only."""
    found: set[int] = set()
    with agentreplay.open(cassette) as opened:
        for step in opened.steps():
            if step.llm is not None:
                text = json.dumps(step.llm.messages) + step.llm.output_text
                found |= {int(n) for n in re.findall(r"question (\d+)", text)}
                found |= {int(n) for n in re.findall(r"call_(\d+)", text)}
            elif step.url is not None and "/tool/" in step.url:
                found.add(int(step.url.split("/tool/")[1].split("?")[0]))
    return found


def steps(cassette: Path) -> list[str]:
    with agentreplay.open(cassette) as opened:
        return [step.kind for step in opened.steps()]
