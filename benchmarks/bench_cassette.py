"""Cassette size and speed against JSONL, JSONL+zstd, vcrpy YAML and raw msgpack+zstd.

    python benchmarks/bench_cassette.py [--repeat N]

Two workloads, both generated deterministically (no network):

- ``mixed``: 100,000 events of ~240 B: streamed LLM responses (SSE chunks)
  with the clock reads and entropy draws an agent makes around them;
- ``conversation``: a 50-turn tool-using agent talking to the OpenAI
  chat-completions API: every request re-sends the growing history and the
  tool list, every response is streamed, tool HTTP calls run in between.

For each it prints the cassette's size against the same events as JSON lines
(bytes as base64), as JSON lines compressed with zstd level 3, and against the
vcrpy YAML cassette of the same HTTP traffic (built as vcrpy's httpx stub builds
it and serialized with vcrpy's own YAML serializer). It then times writing
(``CassetteWriter``, open to close, with and without its background thread)
and reading (``agentreplay.open(path).events()``, open to close) against a
"raw" baseline measured in the same run: ``msgpack.packb`` of plain tuples and
one zstd compression per 256-event batch, and the reverse. Each time is the
best of ``--repeat`` interleaved runs (more until 2 s have passed).

Targets: write and read within 3x of raw; the conversation cassette at least
20x smaller than vcrpy's YAML. The exit status is 1 if a target is missed.

Events are appended as fast as the loop goes, so the writer's 100 ms timer
never cuts a frame. One extra size line, and one extra time, show the file a
live run at the recorded pace would get (a flush every 100 ms of recorded time)
and what writing it costs; they have no target.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import gc
import json
import os
import platform
import random
import struct
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import zstandard
from vcr import serialize as vcr_serialize
from vcr.request import Request as VcrRequest
from vcr.serializers import yamlserializer

import agentreplay
from agentreplay.cassette import (
    CassetteWriter,
    ClockRead,
    EntropyDraw,
    ErrorInfo,
    Event,
    HttpChunk,
    HttpEnd,
    HttpRequest,
    HttpResponse,
)
from agentreplay.cassette.codec import KIND_CODES
from agentreplay.cassette.writer import FLUSH_INTERVAL

BATCH = 256
WRITE_TARGET = 3.0
READ_TARGET = 3.0
VCR_TARGET = 20.0
HEADER = {  # the keys agentreplay.record() writes (docs/cassette-format.md, section 3)
    "agentreplay": agentreplay.__version__,
    "mode": "record",
    "run_id": "5f0c8a7e2b1d4c3a9e8f7a6b5c4d3e2f",
    "created": "2024-11-28T08:00:00+00:00",
    "created_ns": 1_732_780_800_000_000_000,
    "python": platform.python_version(),
    "platform": platform.platform(),
    "argv": ["agent.py"],
    "cwd": "/srv/agent",
    "pythonhashseed": "0",
    "redaction": {
        "headers": ["api-key", "authorization", "cookie"],
        "query": [],
        "json_paths": [],
        "hooks": [],
    },
    "entrypoint": None,
    "args": None,
    "metadata": {"benchmark": "bench_cassette"},
}

# ---------------------------------------------------------------------------
# Realistic-looking text and traffic
# ---------------------------------------------------------------------------

_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "te",
    "ra",
    "su",
    "en",
    "an",
    "or",
    "is",
    "th",
    "er",
    "in",
    "re",
    "at",
    "on",
    "nd",
    "ha",
    "es",
    "ti",
    "ve",
    "de",
    "co",
    "me",
    "al",
    "pro",
    "ex",
    "per",
    "con",
    "ment",
    "ion",
    "ing",
    "ly",
    "tion",
    "ver",
    "sta",
    "gra",
]


class Text:
    """Pseudo-English with a Zipf-like word distribution (compresses like prose)."""

    def __init__(self, rng: random.Random, vocabulary: int = 3000) -> None:
        self.rng = rng
        words: set[str] = set()
        while len(words) < vocabulary:
            length = rng.choice((1, 2, 2, 3, 3, 4))
            words.add("".join(rng.choice(_SYLLABLES) for _ in range(length)))
        self.words = sorted(words)
        rng.shuffle(self.words)
        self.weights = [1 / (rank + 1) for rank in range(len(self.words))]

    def tokens(self, count: int) -> list[str]:
        """``count`` tokens as a streaming model emits them: words with a leading space."""
        out = []
        for word in self.rng.choices(self.words, self.weights, k=count):
            token = " " + word
            roll = self.rng.random()
            if roll < 0.06:
                token += "."
            elif roll < 0.1:
                token += ","
            out.append(token)
        return out

    def sentence(self, words: int) -> str:
        return "".join(self.tokens(words)).strip().capitalize()


def _id(rng: random.Random, n: int = 24) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(n))


OPENAI_URL = "https://api.openai.com/v1/chat/completions"
MODEL = "gpt-4o-2024-08-06"


def openai_request_headers(rng: random.Random, length: int) -> tuple[tuple[str, str], ...]:
    return (
        ("host", "api.openai.com"),
        ("accept-encoding", "gzip, deflate"),
        ("connection", "keep-alive"),
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("user-agent", "OpenAI/Python 1.55.3"),
        ("x-stainless-lang", "python"),
        ("x-stainless-package-version", "1.55.3"),
        ("x-stainless-os", "Linux"),
        ("x-stainless-arch", "x64"),
        ("x-stainless-runtime", "CPython"),
        ("x-stainless-runtime-version", "3.11.7"),
        ("authorization", "[REDACTED]"),
        ("x-stainless-async", "false"),
        ("x-stainless-retry-count", "0"),
        ("content-length", str(length)),
    )


def openai_response_headers(rng: random.Random) -> tuple[tuple[str, str], ...]:
    return (
        ("date", "Thu, 28 Nov 2024 08:00:00 GMT"),
        ("content-type", "text/event-stream; charset=utf-8"),
        ("transfer-encoding", "chunked"),
        ("connection", "keep-alive"),
        ("access-control-expose-headers", "X-Request-ID"),
        ("openai-organization", "user-abc123"),
        ("openai-processing-ms", str(rng.randint(150, 900))),
        ("openai-version", "2020-10-01"),
        ("x-ratelimit-limit-requests", "10000"),
        ("x-ratelimit-limit-tokens", "30000000"),
        ("x-ratelimit-remaining-requests", str(rng.randint(9000, 9999))),
        ("x-ratelimit-remaining-tokens", str(rng.randint(29_000_000, 29_999_999))),
        ("x-ratelimit-reset-requests", "6ms"),
        ("x-ratelimit-reset-tokens", "0s"),
        ("x-request-id", "req_" + _id(rng, 32)),
        ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
        ("cf-cache-status", "DYNAMIC"),
        (
            "set-cookie",
            "__cf_bm=" + _id(rng, 43) + "; path=/; expires=Thu, 28-Nov-24 08:30:00 GMT;"
            " domain=.api.openai.com; HttpOnly; Secure; SameSite=None",
        ),
        ("x-content-type-options", "nosniff"),
        ("server", "cloudflare"),
        ("cf-ray", _id(rng, 16).lower() + "-CDG"),
        ("alt-svc", 'h3=":443"; ma=86400'),
    )


def sse(
    completion_id: str,
    created: int,
    delta: dict[str, Any],
    finish: str | None = None,
    usage: dict[str, int] | None = None,
) -> bytes:
    choices = (
        [] if usage else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    )
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "system_fingerprint": "fp_7f6be3efb0",
        "choices": choices,
    }
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


class Recorder:
    """Builds events the way the interceptors would, with per-task sequence numbers."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.seqs: dict[str, int] = {}
        self.at = 0

    def next_seq(self, task: str) -> int:
        seq = self.seqs.get(task, 0)
        self.seqs[task] = seq + 1
        return seq

    def add(self, cls: type[Event], task: str, *fields: Any, dt: int = 0) -> int:
        self.at += dt
        seq = self.next_seq(task)
        self.events.append(cls(task, seq, self.at, *fields))
        return seq


@dataclasses.dataclass
class Exchange:
    """One HTTP request and its response, as vcrpy would store it."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    chunks: list[bytes]


def record_exchange(
    rec: Recorder,
    rng: random.Random,
    task: str,
    ex: Exchange,
    *,
    first_byte: int,
    gap: int,
    between: Callable[[], None] | None = None,
) -> None:
    """The events of one exchange; chunks arrive ``gap`` ns apart, give or take a third."""
    req = rec.add(
        HttpRequest, task, ex.method, ex.url, ex.request_headers, ex.body, "httpx", dt=1_000_000
    )
    rec.add(
        HttpResponse,
        task,
        req,
        ex.status,
        ex.response_headers,
        "HTTP/1.1",
        ex.reason,
        dt=first_byte,
    )
    for chunk in ex.chunks:
        rec.add(HttpChunk, task, req, chunk, dt=gap + rng.randint(-gap // 3, gap // 3))
        if between is not None:
            between()
    rec.add(HttpEnd, task, req, True, dt=200_000)


# ---------------------------------------------------------------------------
# Workload 1: 100k mixed events
# ---------------------------------------------------------------------------


def mixed_workload(total: int = 100_000, seed: int = 1) -> tuple[list[Event], list[Exchange]]:
    """Streamed responses (~80% SSE chunks) with clock reads (~15%) and entropy draws (~5%)."""
    rng = random.Random(seed)
    text = Text(rng)
    rec = Recorder()
    exchanges: list[Exchange] = []

    def noise() -> None:
        roll = rng.random()
        if roll < 0.19:
            clock = rng.choice(("wall", "wall", "monotonic", "perf_counter"))
            value: int | float = (
                1_732_780_800_000_000_000 + rec.at if clock == "wall" else 5000.0 + rec.at / 1e9
            )
            rec.add(ClockRead, "0", clock, value, dt=3_000)
        elif roll < 0.25:
            rec.add(EntropyDraw, "0", "urandom", rng.randbytes(16), dt=2_000)

    while len(rec.events) < total:
        left = total - len(rec.events)
        completion_id = "chatcmpl-" + _id(rng, 29)
        created = 1_732_780_800 + len(exchanges)
        question = text.sentence(40)
        body = json.dumps(
            {"messages": [{"role": "user", "content": question}], "model": MODEL, "stream": True},
            separators=(",", ":"),
        ).encode()
        n_chunks = rng.randint(250, 600)
        chunks = [sse(completion_id, created, {"role": "assistant", "content": ""})]
        chunks += [sse(completion_id, created, {"content": tok}) for tok in text.tokens(n_chunks)]
        chunks.append(sse(completion_id, created, {}, "stop"))
        chunks.append(b"data: [DONE]\n\n")
        ex = Exchange(
            "POST",
            OPENAI_URL,
            openai_request_headers(rng, len(body)),
            body,
            200,
            "OK",
            openai_response_headers(rng),
            chunks,
        )
        if left < 1000:  # the last stream: about as many chunks as fit, noise included
            ex.chunks = ex.chunks[: max(1, int((left - 3) * 0.75))]
        exchanges.append(ex)
        record_exchange(rec, rng, "0", ex, first_byte=300_000_000, gap=20_000_000, between=noise)
    while len(rec.events) < total:  # top up with clock reads
        rec.add(ClockRead, "0", "wall", 1_732_780_800_000_000_000 + rec.at, dt=1_000)
    while len(rec.events) > total:  # or drop the last noise events, renumbering what follows
        last = max(i for i, e in enumerate(rec.events) if isinstance(e, (ClockRead, EntropyDraw)))
        del rec.events[last]
        rec.events[last:] = [dataclasses.replace(e, seq=e.seq - 1) for e in rec.events[last:]]
    return rec.events, exchanges


# ---------------------------------------------------------------------------
# Workload 2: a 50-turn tool-using conversation
# ---------------------------------------------------------------------------

_CITIES = ["Paris", "Lyon", "Berlin", "Munich", "Madrid", "Lisbon", "Rome", "Vienna", "Prague"]


def _tool_schemas() -> list[dict[str, Any]]:
    def tool(
        name: str, description: str, props: dict[str, Any], required: list[str]
    ) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": name,
                "description": description,
                "strict": False,
                "parameters": {
                    "type": "object",
                    "properties": props,
                    "required": required,
                    "additionalProperties": False,
                },
            },
        }

    city = {"type": "string", "description": "City name, e.g. Paris or San Francisco"}
    date = {"type": "string", "description": "ISO 8601 date, e.g. 2024-12-24"}
    return [
        tool(
            "get_weather",
            "Get the current weather and a 5-day forecast for a city.",
            {"city": city, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            ["city"],
        ),
        tool(
            "search_flights",
            "Search direct and one-stop flights between two cities on a "
            "date; returns up to 10 offers sorted by price.",
            {
                "origin": city,
                "destination": city,
                "date": date,
                "cabin": {"type": "string", "enum": ["economy", "premium", "business"]},
            },
            ["origin", "destination", "date"],
        ),
        tool(
            "search_hotels",
            "Find hotels in a city for a stay; returns name, rating, price "
            "per night and distance to the centre.",
            {
                "city": city,
                "check_in": date,
                "check_out": date,
                "max_price": {"type": "number", "description": "Maximum price per night in EUR"},
            },
            ["city", "check_in", "check_out"],
        ),
        tool(
            "get_exchange_rate",
            "Get the exchange rate between two ISO 4217 currencies.",
            {"base": {"type": "string"}, "quote": {"type": "string"}},
            ["base", "quote"],
        ),
        tool(
            "web_search",
            "Search the web and return the top results with title, URL and a snippet of each page.",
            {
                "query": {"type": "string", "description": "The search query"},
                "max_results": {"type": "integer", "minimum": 1, "maximum": 10},
            },
            ["query"],
        ),
        tool(
            "book_trip",
            "Book a flight offer and a hotel room together; returns a booking "
            "reference. Only call after the user confirmed both.",
            {
                "flight_offer_id": {"type": "string"},
                "hotel_id": {"type": "string"},
                "traveller_name": {"type": "string"},
            },
            ["flight_offer_id", "hotel_id", "traveller_name"],
        ),
    ]


def _tool_result(rng: random.Random, text: Text, name: str, args: dict[str, Any]) -> bytes:
    if name == "get_weather":
        value: Any = {
            "city": args["city"],
            "current": {"temp_c": rng.randint(-5, 30), "condition": text.sentence(3)},
            "forecast": [
                {
                    "date": f"2024-12-{20 + d}",
                    "min_c": rng.randint(-5, 10),
                    "max_c": rng.randint(10, 25),
                    "summary": text.sentence(8),
                }
                for d in range(5)
            ],
        }
    elif name in ("search_flights", "search_hotels"):
        value = {
            "results": [
                {
                    "id": _id(rng, 10),
                    "name": text.sentence(4),
                    "price_eur": round(rng.uniform(40, 900), 2),
                    "rating": round(rng.uniform(2.5, 5), 1),
                    "details": text.sentence(14),
                }
                for _ in range(rng.randint(5, 10))
            ]
        }
    elif name == "web_search":
        value = {
            "results": [
                {
                    "title": text.sentence(7),
                    "url": f"https://example.org/{_id(rng, 12)}",
                    "snippet": text.sentence(35),
                }
                for _ in range(5)
            ]
        }
    elif name == "get_exchange_rate":
        value = {"base": "EUR", "quote": "USD", "rate": round(rng.uniform(1.0, 1.2), 4)}
    else:
        value = {"booking_reference": _id(rng, 8).upper(), "status": "confirmed"}
    return json.dumps(value, separators=(",", ":")).encode()


def conversation_workload(turns: int = 50, seed: int = 2) -> tuple[list[Event], list[Exchange]]:
    rng = random.Random(seed)
    text = Text(rng)
    tools = _tool_schemas()
    rec = Recorder()
    exchanges: list[Exchange] = []
    system = (
        "You are TripPilot, a careful travel-planning assistant. "
        + text.sentence(90)
        + " Always check the weather and prices before recommending anything, and never "
        "book without explicit confirmation. " + text.sentence(60)
    )
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": text.sentence(30) + "?"},
    ]
    tool_task = 0
    for turn in range(turns):
        answer_in_text = turn % 5 == 4 or turn == turns - 1
        body = json.dumps(
            {
                "messages": messages,
                "model": "gpt-4o",
                "stream": True,
                "stream_options": {"include_usage": True},
                "temperature": 0.2,
                "tools": tools,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        completion_id = "chatcmpl-" + _id(rng, 29)
        created = 1_732_780_800 + turn * 7
        chunks = [
            sse(
                completion_id,
                created,
                {"role": "assistant", "content": None if not answer_in_text else ""},
            )
        ]
        calls: list[tuple[str, str, dict[str, Any]]] = []
        if answer_in_text:
            tokens = text.tokens(rng.randint(120, 400))
            chunks += [sse(completion_id, created, {"content": tok}) for tok in tokens]
            chunks.append(sse(completion_id, created, {}, "stop"))
            assistant: dict[str, Any] = {"role": "assistant", "content": "".join(tokens).strip()}
        else:
            for index in range(rng.choice((1, 1, 1, 2))):
                name = rng.choice(
                    [
                        "get_weather",
                        "search_flights",
                        "search_hotels",
                        "web_search",
                        "get_exchange_rate",
                    ]
                )
                args = {
                    "city": rng.choice(_CITIES),
                    "query": text.sentence(6),
                    "origin": rng.choice(_CITIES),
                    "destination": rng.choice(_CITIES),
                    "date": f"2024-12-{rng.randint(10, 28)}",
                }
                arguments = json.dumps(args)
                call_id = "call_" + _id(rng, 24)
                calls.append((call_id, name, args))
                chunks.append(
                    sse(
                        completion_id,
                        created,
                        {
                            "tool_calls": [
                                {
                                    "index": index,
                                    "id": call_id,
                                    "type": "function",
                                    "function": {"name": name, "arguments": ""},
                                }
                            ]
                        },
                    )
                )
                for start in range(0, len(arguments), 6):
                    chunks.append(
                        sse(
                            completion_id,
                            created,
                            {
                                "tool_calls": [
                                    {
                                        "index": index,
                                        "function": {"arguments": arguments[start : start + 6]},
                                    }
                                ]
                            },
                        )
                    )
            chunks.append(sse(completion_id, created, {}, "tool_calls"))
            assistant = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": cid,
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                    for cid, name, args in calls
                ],
            }
        chunks.append(
            sse(
                completion_id,
                created,
                {},
                usage={
                    "prompt_tokens": len(body) // 4,
                    "completion_tokens": len(chunks),
                    "total_tokens": len(body) // 4 + len(chunks),
                },
            )
        )
        chunks.append(b"data: [DONE]\n\n")

        rec.add(ClockRead, "0", "wall", 1_732_780_800_000_000_000 + rec.at, dt=50_000)
        ex = Exchange(
            "POST",
            OPENAI_URL,
            openai_request_headers(rng, len(body)),
            body,
            200,
            "OK",
            openai_response_headers(rng),
            chunks,
        )
        exchanges.append(ex)
        record_exchange(
            rec,
            rng,
            "0",
            ex,
            first_byte=rng.randint(250, 700) * 1_000_000,
            gap=rng.randint(8, 30) * 1_000_000,
        )
        rec.add(ClockRead, "0", "perf_counter", 5000.0 + rec.at / 1e9, dt=10_000)
        messages.append(assistant)

        for call_id, name, args in calls:  # tool calls run as tasks of their own
            tool_task += 1
            task = f"0.{tool_task}"
            rec.add(EntropyDraw, task, "urandom", rng.randbytes(16), dt=20_000)
            result = _tool_result(rng, text, name, args)
            url = f"https://tools.internal.example/v1/{name}?city={args['city']}"
            tool_ex = Exchange(
                "GET",
                url,
                (
                    ("host", "tools.internal.example"),
                    ("accept", "*/*"),
                    ("accept-encoding", "gzip, deflate"),
                    ("connection", "keep-alive"),
                    ("user-agent", "python-httpx/0.27.2"),
                    ("x-request-id", _id(rng, 32)),
                ),
                b"",
                200,
                "OK",
                (
                    ("content-type", "application/json"),
                    ("content-length", str(len(result))),
                    ("date", "Thu, 28 Nov 2024 08:00:00 GMT"),
                    ("server", "uvicorn"),
                ),
                [result[:4096], result[4096:]] if len(result) > 4096 else [result],
            )
            exchanges.append(tool_ex)
            record_exchange(
                rec, rng, task, tool_ex, first_byte=rng.randint(40, 400) * 1_000_000, gap=1_000_000
            )
            messages.append({"role": "tool", "tool_call_id": call_id, "content": result.decode()})
        if answer_in_text and turn != turns - 1:
            messages.append({"role": "user", "content": text.sentence(rng.randint(8, 40)) + "?"})
    return rec.events, exchanges


# ---------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------


def _json_field(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, ErrorInfo):
        return dataclasses.asdict(value)
    if isinstance(value, tuple):
        return [_json_field(v) for v in value]
    return value


def to_jsonl(events: list[Event]) -> bytes:
    lines = []
    for event in events:
        record = {"kind": type(event).__name__}
        for field in dataclasses.fields(event):
            record[field.name] = _json_field(getattr(event, field.name))
        lines.append(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def to_vcr_yaml(exchanges: list[Exchange]) -> bytes:
    """The cassette vcrpy's httpx stub would record for ``exchanges``, as vcrpy writes it."""
    requests, responses = [], []
    for ex in exchanges:
        requests.append(VcrRequest(ex.method, ex.url, ex.body, dict(ex.request_headers)))
        headers: dict[str, list[str]] = {}
        for name, value in ex.response_headers:
            headers.setdefault(name, []).append(value)
        responses.append(
            {
                "status": {"code": ex.status, "message": ex.reason},
                "headers": headers,
                "body": {"string": b"".join(ex.chunks)},
            }
        )
    text: str = vcr_serialize.serialize(
        {"requests": requests, "responses": responses}, yamlserializer
    )
    return text.encode("utf-8")


def to_plain(event: Event) -> tuple[Any, ...]:
    """The event as a plain tuple, bytes inline (what the raw baseline packs)."""
    out: list[Any] = [KIND_CODES[type(event)], event.task, event.seq, event.at]
    for field in dataclasses.fields(event)[3:]:
        value = getattr(event, field.name)
        if field.name == "headers":
            value = tuple(item for pair in value for item in pair)
        elif isinstance(value, ErrorInfo):
            value = (value.type, value.message, value.traceback)
        out.append(value)
    return tuple(out)


def raw_write(path: Path, plain: list[tuple[Any, ...]]) -> None:
    compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
    with open(path, "wb") as file:
        for start in range(0, len(plain), BATCH):
            frame = compressor.compress(
                msgpack.packb(plain[start : start + BATCH], use_bin_type=True)
            )
            file.write(struct.pack("<I", len(frame)))
            file.write(frame)


def raw_read(path: Path) -> int:
    decompressor = zstandard.ZstdDecompressor()
    count = 0
    with open(path, "rb") as file:
        data = file.read()
    pos = 0
    while pos < len(data):
        (size,) = struct.unpack_from("<I", data, pos)
        pos += 4
        batch = msgpack.unpackb(
            decompressor.decompress(data[pos : pos + size]), raw=False, use_list=False
        )
        count += len(batch)
        pos += size
    return count


# ---------------------------------------------------------------------------
# Ours
# ---------------------------------------------------------------------------


def write_sync(path: Path, events: list[Event]) -> None:
    """CassetteWriter without its thread, flushed every 256 events, open to close."""
    writer = CassetteWriter(path, HEADER, background=False)
    append, flush = writer.append, writer.flush
    pending = 0
    for event in events:
        append(event)
        pending += 1
        if pending == BATCH:
            flush()
            pending = 0
    writer.close()


def write_threaded(path: Path, events: list[Event]) -> None:
    """CassetteWriter with its background thread, open to close."""
    writer = CassetteWriter(path, HEADER)
    append = writer.append
    for event in events:
        append(event)
    writer.close()


def write_paced(path: Path, events: list[Event]) -> None:
    """Flush as the background thread would in a live run: every 256 events or
    `FLUSH_INTERVAL` seconds of recorded time, whichever comes first. Its frames are
    written into streams, as the background thread's are."""
    writer = CassetteWriter(path, HEADER, background=False, stream=True)
    interval = int(FLUSH_INTERVAL * 1e9)
    due = events[0].at + interval if events else 0
    pending = 0
    for event in events:
        if event.at >= due or pending == BATCH:
            writer.flush()
            pending = 0
            due = event.at + interval
        writer.append(event)
        pending += 1
    writer.close()


def read_ours(path: Path) -> int:
    count = 0
    with agentreplay.open(path) as cassette:
        for _ in cassette.events():
            count += 1
    return count


def timed(
    repeat: int, runs: dict[str, Callable[[], object]], *, min_total: float = 2.0
) -> dict[str, float]:
    """Best time of each of ``runs``, run in turn ``repeat`` times (more until
    ``min_total`` seconds have passed), so that a busy moment hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    spent = 0.0
    rounds = 0
    while rounds < repeat or spent < min_total:
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
            times[name].append(elapsed)
            spent += elapsed
        rounds += 1
    return {name: min(values) for name, values in times.items()}


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n / 1e6:8.2f} MB" if n >= 1e6 else f"{n / 1e3:8.1f} kB"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def bench(
    name: str,
    events: list[Event],
    exchanges: list[Exchange],
    workdir: Path,
    repeat: int,
    vcr_target: float | None,
) -> list[tuple[str, bool]]:
    verdicts: list[tuple[str, bool]] = []
    payload = sum(len(c) for ex in exchanges for c in ex.chunks) + sum(
        len(ex.body) for ex in exchanges
    )
    plain = [to_plain(event) for event in events]
    kinds = Counter(type(event).__name__ for event in events)
    print(
        f"\n== {name}: {len(events):,} events "
        f"({len(msgpack.packb(plain)) / len(events):.0f} B each as msgpack), "
        f"{len(exchanges)} HTTP exchanges, {payload / 1e6:.2f} MB of HTTP bodies =="
    )
    print(
        "  " + ", ".join(f"{kind} {count / len(events):.1%}" for kind, count in kinds.most_common())
    )
    ours = workdir / f"{name}.cassette"
    raw = workdir / f"{name}.raw"

    # Sizes.
    write_sync(ours, events)
    raw_write(raw, plain)
    assert read_ours(ours) == len(events) == raw_read(raw)
    size = ours.stat().st_size
    jsonl = to_jsonl(events)
    jsonl_zstd = zstandard.ZstdCompressor(level=3).compress(jsonl)
    vcr_yaml = to_vcr_yaml(exchanges)
    print("size")
    print(f"  agentreplay cassette      {_size(size)}")
    print(
        f"  raw msgpack+zstd batches  {_size(raw.stat().st_size)}   "
        f"({raw.stat().st_size / size:5.1f}x ours)"
    )
    for label, other in (
        ("JSONL (bytes as base64)", len(jsonl)),
        ("JSONL + zstd -3", len(jsonl_zstd)),
        ("vcrpy YAML (HTTP only)", len(vcr_yaml)),
    ):
        print(f"  {label:<25} {_size(other)}   ({other / size:5.1f}x ours)")
    paced = workdir / f"{name}.paced.cassette"
    write_paced(paced, events)
    print(
        f"  (at the recorded pace     {_size(paced.stat().st_size)}   "
        f"{len(vcr_yaml) / paced.stat().st_size:5.1f}x smaller than vcrpy YAML; no target)"
    )
    if vcr_target is not None:
        ratio = len(vcr_yaml) / size
        ok = ratio >= vcr_target
        verdicts.append(
            (f"{name}: cassette >= {vcr_target:.0f}x smaller than vcrpy YAML ({ratio:.1f}x)", ok)
        )

    # Speed.
    best = timed(
        repeat,
        {
            "raw_w": lambda: raw_write(raw, plain),
            "sync": lambda: write_sync(ours, events),
            "thread": lambda: write_threaded(ours, events),
            "paced": lambda: write_paced(paced, events),
            "raw_r": lambda: raw_read(raw),
            "read": lambda: read_ours(ours),
        },
    )
    t_raw_w, t_sync, t_thread = best["raw_w"], best["sync"], best["thread"]
    t_paced = best["paced"]
    t_raw_r, t_read = best["raw_r"], best["read"]
    n = len(events)
    print(f"speed (best of >= {repeat} runs)     time    events/s   MB/s of HTTP bodies   vs raw")
    rows = (
        ("raw write (msgpack+zstd)", t_raw_w, t_raw_w),
        ("write, background=False", t_sync, t_raw_w),
        ("write, background thread", t_thread, t_raw_w),
        ("write, at recorded pace", t_paced, t_raw_w),  # no target: small frames, streams
        ("raw read (zstd+msgpack)", t_raw_r, t_raw_r),
        ("read into dataclasses", t_read, t_raw_r),
    )
    for label, t, base in rows:
        print(
            f"  {label:<26} {t * 1000:8.1f} ms {n / t:11,.0f}   {payload / t / 1e6:10.1f}"
            f"           {t / base:5.2f}x"
        )
    verdicts.append(
        (
            f"{name}: write (background=False) within {WRITE_TARGET:.0f}x of raw "
            f"({t_sync / t_raw_w:.2f}x)",
            t_sync / t_raw_w <= WRITE_TARGET,
        )
    )
    verdicts.append(
        (
            f"{name}: write (background thread) within {WRITE_TARGET:.0f}x of raw "
            f"({t_thread / t_raw_w:.2f}x)",
            t_thread / t_raw_w <= WRITE_TARGET,
        )
    )
    verdicts.append(
        (
            f"{name}: read within {READ_TARGET:.0f}x of raw ({t_read / t_raw_r:.2f}x)",
            t_read / t_raw_r <= READ_TARGET,
        )
    )
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timing runs per figure (best of)")
    args = parser.parse_args(argv)
    print(
        f"agentreplay {agentreplay.__version__} ({Path(agentreplay.__file__).parent}), "
        f"Python {platform.python_version()}, "
        f"{platform.machine()}, nproc {os.cpu_count()}, msgpack "
        f"{'.'.join(map(str, msgpack.version))}, zstandard {zstandard.__version__}"
    )
    verdicts: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="bench_cassette_") as tmp:
        workdir = Path(tmp)
        events, exchanges = mixed_workload()
        verdicts += bench("mixed", events, exchanges, workdir, args.repeat, None)
        events, exchanges = conversation_workload()
        verdicts += bench("conversation", events, exchanges, workdir, args.repeat, VCR_TARGET)
    print("\ntargets")
    for label, ok in verdicts:
        print(f"  {_verdict(ok)}  {label}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
