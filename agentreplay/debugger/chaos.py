"""Chaos replay: the same recording under another schedule it allows.

A replay follows the recorded timeline: answers come when they came, threads
take turns in the recorded order. A race that happened to go one way when
recorded goes that way on every replay, so a replay that passes once may
hide it. `perturb` writes a copy of a cassette with another schedule that
the same inputs could have had, chosen by a seed:

- each answer (an HTTP response, a tool result) takes between a quarter and
  four times its recorded latency;
- each body is streamed at between half and twice its recorded pace, and its
  chunks are cut at other places (the same bytes);
- what each task did afterwards moves with it, and the order in which
  threads take their answers follows the new times.

Replaying the copy (`agentreplay replay FILE --chaos SEED`) shows whether the
run still ends the same; saving it (``-o``) keeps a schedule that breaks the
run, so it breaks on every replay.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from agentreplay.cassette.events import (
    KINDS,
    Event,
    HttpChunk,
    HttpError,
    HttpRequest,
    HttpResponse,
    StepRole,
    ToolCall,
    ToolResult,
)
from agentreplay.cassette.reader import open_reader
from agentreplay.cassette.writer import CassetteWriter

__all__ = ["perturb"]


def _factor(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _split(rng: random.Random, chunk: HttpChunk) -> list[HttpChunk]:
    """The chunk's bytes in one to three pieces, cut at random places."""
    data = chunk.data
    cuts = {rng.randrange(1, len(data)) for _ in range(rng.randint(0, 2))} if len(data) > 1 else ()
    bounds = [0, *sorted(cuts), len(data)]
    return [dataclasses.replace(chunk, data=data[a:b]) for a, b in itertools.pairwise(bounds)]


class _Exchange:
    __slots__ = (
        "answered",
        "body",
        "head_new",
        "head_old",
        "latency",
        "request_new",
        "request_old",
    )

    def __init__(self, request_old: int, request_new: int, rng: random.Random) -> None:
        self.request_old, self.request_new = request_old, request_new
        self.latency = _factor(rng, 0.25, 4.0)
        self.body = _factor(rng, 0.5, 2.0)
        self.answered = False
        self.head_old = self.head_new = request_new


def _retime(events: list[Event], rng: random.Random) -> list[tuple[int, Event]]:
    """One task's events with new times (and chunks cut anew), in the task's order."""
    out: list[tuple[int, Event]] = []
    open_calls: dict[int, _Exchange] = {}
    shift, previous = 0, 0
    for event in events:
        old = event.at
        new = old + shift
        if isinstance(event, (HttpRequest, ToolCall)):
            new = max(new, previous)
            open_calls[event.seq] = _Exchange(old, new, rng)
        else:
            link = KINDS[type(event)].link
            call = open_calls.get(getattr(event, link)) if link else None
            if call is not None and not call.answered:
                if isinstance(event, (HttpResponse, HttpError, ToolResult)):
                    new = call.request_new + round((old - call.request_old) * call.latency)
                    call.answered, call.head_old, call.head_new = True, old, new
            elif call is not None:
                new = call.head_new + round((old - call.head_old) * call.body)
        new = max(new, previous)
        shift, previous = new - old, new
        if isinstance(event, HttpChunk):
            out.extend((new, piece) for piece in _split(rng, event))
        else:
            out.append((new, event))
    return out


def _renumber(task: str, retimed: list[tuple[int, Event]]) -> list[tuple[int, Event]]:
    """Sequence numbers anew (cut chunks added events), links following them."""
    seqs: dict[int, int] = {}
    out = []
    for number, (at, event) in enumerate(retimed):
        kind = KINDS[type(event)]
        fields: dict[str, Any] = {"seq": number, "at": at}
        if kind.step_role is StepRole.OPENS:
            seqs[event.seq] = number
        elif kind.link:
            fields[kind.link] = seqs.get(getattr(event, kind.link), getattr(event, kind.link))
        out.append((at, dataclasses.replace(event, **fields)))
    return out


def _all(by_task: dict[str, list[Event]]) -> list[Event]:
    return [event for events in by_task.values() for event in events]


def _is_answer(event: Event) -> bool:
    return isinstance(event, (HttpResponse, HttpError, ToolResult))


def _describe(
    recorded: list[str], timeline: list[tuple[int, int, Event]], by_task: dict[str, list[Event]]
) -> str:
    """What the schedule changed, in words: the first answer that now comes in another
    task's turn, and how many chunks were cut anew."""
    now = [event.task for _, _, event in timeline if _is_answer(event)]
    parts = []
    for position, (was, new) in enumerate(zip(recorded, now, strict=False)):
        if was != new:
            parts.append(
                f"answer {position + 1} goes to task {new} before task {was} "
                f"(recorded: task {was} first)"
            )
            break
    else:
        parts.append("answers in the recorded order")
    chunks_before = sum(isinstance(e, HttpChunk) for e in _all(by_task))
    chunks_after = sum(isinstance(e, HttpChunk) for _, _, e in timeline)
    if chunks_before:
        parts.append(f"{chunks_before} stream chunks re-cut into {chunks_after}")
    parts.append("latencies x0.25-x4, stream pace x0.5-x2")
    return "; ".join(parts)


def perturb(source: Path, target: Path, seed: int) -> dict[str, Any]:
    """Write to ``target`` the recording at ``source`` under the schedule ``seed`` picks;
    returns what the header says of it."""
    rng = random.Random(seed)
    with open_reader(source) as cassette:
        header = dict(cassette.header)
        by_task: dict[str, list[Event]] = defaultdict(list)
        order: list[str] = []
        recorded: list[str] = []  # the task of each answer, in the recorded order
        for event in cassette.events():
            if event.task not in by_task:
                order.append(event.task)
            by_task[event.task].append(event)
            if _is_answer(event):
                recorded.append(event.task)
    timeline: list[tuple[int, int, Event]] = []
    for task in order:  # tasks in the order they first appear: the same seed, the same draws
        for at, event in _renumber(task, _retime(by_task[task], rng)):
            timeline.append((at, len(timeline), event))
    timeline.sort(key=lambda item: (item[0], item[1]))
    chaos = {
        "seed": seed,
        "source": str(source),
        "run_id": header.get("run_id"),
        "perturbation": _describe(recorded, timeline, by_task),
    }
    header["chaos"] = chaos
    writer = CassetteWriter(target, header, background=False)
    try:
        for _, _, event in timeline:
            writer.append(event)
    finally:
        writer.close()
    return chaos
