"""Peak memory of `agentreplay show` on a 100k-event cassette.

`show` builds the step table in one streaming pass, holding only the steps
still open. This measures its peak resident memory in a fresh process
against two baselines measured in the same run: a process that only imports
what `show` imports (the floor), and one that loads every event into a list
(what a non-streaming reader would hold).

    python benchmarks/bench_show_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

STEPS = 2_000
CHUNKS = 45  # per LLM call: ~50 events a step, ~100k events in all

_CHILD = """
import resource, sys
mode, path = sys.argv[1], sys.argv[2]
from agentreplay.cli import main
import agentreplay
if mode == "show":
    main(["show", path, "--limit", "20"])
elif mode == "load":
    with agentreplay.open(path) as cassette:
        events = list(cassette.events())
    print(len(events), file=sys.stderr)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def write_cassette(path: Path) -> int:
    from agentreplay.cassette import (
        CassetteWriter,
        ClockRead,
        HttpChunk,
        HttpEnd,
        HttpRequest,
        HttpResponse,
    )

    writer = CassetteWriter(path, {"bench": "show-memory"}, background=False)
    count = seq = at = 0
    history: list[dict[str, str]] = []
    for step in range(STEPS):
        history.append({"role": "user", "content": f"question {step} " + "words " * 20})
        body = json.dumps({"model": "gpt-4o", "messages": history[-20:], "stream": True})
        request = HttpRequest(
            "0",
            seq,
            at,
            "POST",
            "https://api.openai.com/v1/chat/completions",
            (("content-type", "application/json"),),
            body.encode(),
            "httpx",
        )
        events = [
            request,
            HttpResponse(
                "0",
                seq + 1,
                at + 1,
                seq,
                200,
                (("content-type", "text/event-stream"),),
                "HTTP/1.1",
                "OK",
            ),
        ]
        for i in range(CHUNKS):
            delta = {"choices": [{"index": 0, "delta": {"content": f"token{i} "}}]}
            events.append(
                HttpChunk(
                    "0", seq + 2 + i, at + 2 + i, seq, f"data: {json.dumps(delta)}\n\n".encode()
                )
            )
        events.append(HttpEnd("0", seq + 2 + CHUNKS, at + 3 + CHUNKS, seq, True))
        events.append(ClockRead("0", seq + 3 + CHUNKS, at + 4 + CHUNKS, "wall", at))
        for event in events:
            writer.append(event)
        writer.flush()
        count += len(events)
        seq += len(events)
        at += 1_000_000
    writer.close()
    return count


def peak_kib(mode: str, path: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stderr.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.cassette"
        events = write_cassette(path)
        size = path.stat().st_size
        floor = peak_kib("imports", path)
        show = peak_kib("show", path)
        load = peak_kib("load", path)
    print(f"cassette: {events:,} events, {size / 1e6:.1f} MB on disk")
    print(f"  imports only (floor)          {floor / 1024:7.1f} MiB peak")
    print(
        f"  agentreplay show              {show / 1024:7.1f} MiB peak "
        f"(+{(show - floor) / 1024:.1f} MiB over the floor)"
    )
    print(
        f"  all events in a list          {load / 1024:7.1f} MiB peak "
        f"(+{(load - floor) / 1024:.1f} MiB over the floor)"
    )
    ratio = (show - floor) / max(1, load - floor)
    print(f"show holds {ratio:.0%} of what loading every event holds")
    ok = ratio < 0.25
    print(f"{'PASS' if ok else 'FAIL'}  show stays far below holding all events (< 25%)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
