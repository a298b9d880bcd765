"""Time and peak memory of `agentreplay diff` on two 10,000-step cassettes.

Run A is a long tool-using agent: streamed OpenAI chat completions whose
request re-sends the last messages of the conversation, HTTP tool calls with
JSON answers, and ``@agentreplay.tool`` calls, in a repeating pattern. Run B
is the same run with 1% of its steps different: 60 steps whose answer or
result changed, 20 steps inserted and 20 removed, spread over the run. Both
carry what differs between any two real runs (tool call ids, Date headers,
timings), which the diff must not count.

Each measurement runs in a fresh process and reports wall time and peak
resident memory, against two baselines from the same run: a process that
only imports what the diff imports (the memory floor), and one that streams
both cassettes' steps with `iter_steps` and does nothing else (the decoding
floor that any step-level diff pays).

    python benchmarks/bench_diff.py [--steps 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import code_version, load_average

_CHILD = """
import sys, time
mode, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
import agentreplay
from agentreplay.rundiff import diff
from agentreplay.steps import iter_steps
start = time.perf_counter()
if mode == "diff":
    result = diff(a, b)
    print(result.summary(), file=sys.stderr)
elif mode == "steps":
    for path in (a, b):
        with agentreplay.open(path) as cassette:
            n = sum(1 for _ in iter_steps(cassette, keep_exchange=True))
    print(n, file=sys.stderr)
elapsed = time.perf_counter() - start
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across fork and exec.
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(elapsed, peak, time.process_time(), file=sys.stderr)
"""

CHUNKS = 8


class _Writer:
    """Writes one run's events, step by step, into a cassette."""

    def __init__(self, path: Path) -> None:
        from agentreplay.cassette import CassetteWriter

        self.writer = CassetteWriter(path, {"bench": "diff"}, background=False)
        self.seq = 0
        self.at = 0
        self.history: list[dict[str, Any]] = [{"role": "system", "content": "You help. " * 30}]

    def _next(self) -> tuple[int, int]:
        self.seq += 1
        self.at += 1_000
        return self.seq, self.at

    def llm(self, n: int, answer: str, call_id: str) -> None:
        from agentreplay.cassette import HttpChunk, HttpEnd, HttpRequest, HttpResponse

        self.history.append({"role": "user", "content": f"question {n} " + "words " * 20})
        body = {"model": "gpt-4o", "messages": self.history[-12:], "stream": True}
        seq, at = self._next()
        headers = (("content-type", "application/json"),)
        url = "https://api.openai.com/v1/chat/completions"
        self.writer.append(
            HttpRequest("0", seq, at, "POST", url, headers, json.dumps(body).encode(), "httpx")
        )
        s, t = self._next()
        sse = (("content-type", "text/event-stream"), ("date", f"Mon, {n % 28} Nov"))
        self.writer.append(HttpResponse("0", s, t, seq, 200, sse, "HTTP/1.1", "OK"))
        words = answer.split(" ")
        for i in range(CHUNKS):
            piece = " ".join(words[i::CHUNKS])
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta["tool_calls"] = [
                    {
                        "index": 0,
                        "id": call_id,
                        "function": {"name": "lookup", "arguments": json.dumps({"n": n % 50})},
                    }
                ]
            event = {"id": call_id, "created": t, "choices": [{"index": 0, "delta": delta}]}
            s, t = self._next()
            self.writer.append(HttpChunk("0", s, t, seq, f"data: {json.dumps(event)}\n\n".encode()))
        s, t = self._next()
        self.writer.append(HttpChunk("0", s, t, seq, b"data: [DONE]\n\n"))
        s, t = self._next()
        self.writer.append(HttpEnd("0", s, t, seq, True))
        self.history.append({"role": "assistant", "content": answer})

    def http(self, n: int, result: str) -> None:
        from agentreplay.cassette import HttpChunk, HttpEnd, HttpRequest, HttpResponse

        seq, at = self._next()
        url = f"https://tools.example.com/lookup?n={n % 50}"
        self.writer.append(HttpRequest("0", seq, at, "GET", url, (), b"", "httpx"))
        s, t = self._next()
        headers = (("content-type", "application/json"), ("date", f"Mon, {n % 28} Nov"))
        self.writer.append(HttpResponse("0", s, t, seq, 200, headers, "HTTP/1.1", "OK"))
        s, t = self._next()
        body = json.dumps({"n": n % 50, "result": result, "items": list(range(10))})
        self.writer.append(HttpChunk("0", s, t, seq, body.encode()))
        s, t = self._next()
        self.writer.append(HttpEnd("0", s, t, seq, True))

    def tool(self, n: int, value: str) -> None:
        from agentreplay.cassette import ClockRead, ToolCall, ToolResult

        seq, at = self._next()
        self.writer.append(ToolCall("0", seq, at, "remember", [f"note {n % 50}"], {}))
        s, t = self._next()
        self.writer.append(ClockRead("0", s, t, "wall", t))
        s, t = self._next()
        self.writer.append(ToolResult("0", s, t, seq, value, None))

    def close(self) -> None:
        self.writer.close()


def write_pair(a: Path, b: Path, steps: int, seed: int = 7) -> dict[str, int]:
    """Run A, and run B with 1% of its steps changed, inserted or removed."""
    rng = random.Random(seed)
    differing = rng.sample(range(10, steps - 10), steps // 100)
    kinds = ["change"] * (len(differing) * 3 // 5) + ["insert", "remove"] * (len(differing) // 5)
    plan = dict(zip(differing, kinds, strict=False))
    runs = (_Writer(a), _Writer(b))
    for n in range(steps):
        what = plan.get(n)
        for side, run in enumerate(runs):
            if side == 1 and what == "remove":
                continue
            changed = side == 1 and what == "change"
            call_id = f"call_{side}_{n}"  # ids differ between any two runs
            if n % 5 in (0, 2):
                run.llm(
                    n, f"answer {n} " + ("changed " if changed else "") + "words " * 15, call_id
                )
            elif n % 5 in (1, 3):
                run.http(n, "other" if changed else f"result {n % 50}")
            else:
                run.tool(n, "OTHER" if changed else f"NOTE {n % 50}")
            if side == 1 and what == "insert":
                run.http(n, "inserted")
    for run in runs:
        run.close()
    return {kind: kinds.count(kind) for kind in ("change", "insert", "remove")}


def measure(mode: str, a: Path, b: Path) -> tuple[float, int, float, str]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(a), str(b)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stderr.strip().splitlines()
    seconds, kib, cpu = lines[-1].split()
    return float(seconds), int(kib), float(cpu), lines[0] if len(lines) > 1 else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"code: {code_version()}; load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.cassette", Path(tmp) / "b.cassette"
        plan = write_pair(a, b, args.steps)
        print(
            f"cassettes: {args.steps:,} steps each; B differs in {sum(plan.values())} steps "
            f"({plan['change']} changed, {plan['insert']} inserted, {plan['remove']} removed); "
            f"{a.stat().st_size / 1e6:.1f} MB and {b.stat().st_size / 1e6:.1f} MB on disk"
        )
        runs: dict[str, list[tuple[float, int]]] = {"imports": [], "steps": [], "diff": []}
        cpu: dict[str, list[float]] = {mode: [] for mode in runs}
        verdict = ""
        for _ in range(args.repeat):
            for mode in runs:
                seconds, kib, spent, said = measure(mode, a, b)
                runs[mode].append((seconds, kib))
                cpu[mode].append(spent)
                verdict = said if mode == "diff" else verdict
    print(f"diff says: {verdict}")
    best = {mode: min(s for s, _ in found) for mode, found in runs.items()}
    peak = {mode: statistics.median(k for _, k in found) / 1024 for mode, found in runs.items()}
    used = {mode: min(found) for mode, found in cpu.items()}
    print("  (best wall time, CPU time of the whole process, peak resident memory)")
    for mode, label in (
        ("imports", "imports only (floor)    "),
        ("steps", "iter_steps over A and B "),
        ("diff", "agentreplay.diff(A, B)  "),
    ):
        print(
            f"  {label}  {best[mode]:6.2f} s  cpu {used[mode]:6.2f} s  {peak[mode]:7.1f} MiB peak"
        )
    print(
        f"  diff / decoding floor: {best['diff'] / max(best['steps'], 1e-9):.2f}x wall, "
        f"{(used['diff'] - used['imports']) / max(used['steps'] - used['imports'], 1e-9):.2f}x cpu"
    )
    print(f"load average after: {load_average()}")
    fast, small = best["diff"] < 2.0, peak["diff"] < 200
    print(f"{'PASS' if fast else 'FAIL'}  diff under 2 s ({best['diff']:.2f} s, best of runs)")
    print(f"{'PASS' if small else 'FAIL'}  diff under 200 MB peak ({peak['diff']:.1f} MiB)")
    return 0 if fast and small else 1


if __name__ == "__main__":
    raise SystemExit(main())
