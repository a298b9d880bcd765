"""Time and peak memory of `agentreplay diff` on two 10,000-step cassettes.

Run A is a long tool-using agent: streamed OpenAI chat completions whose
request re-sends the last messages of the conversation, HTTP tool calls with
JSON answers, and ``@agentreplay.tool`` calls, in a repeating pattern. Run B
is the same run with 1% of its steps different: 60 steps whose answer or
result changed, 20 steps inserted and 20 removed, spread over the run. Both
carry what differs between any two real runs (tool call ids, Date headers,
timings), which the diff must not count.

Each measurement runs in a fresh process and reports wall time, CPU time and
peak resident memory (with those of the helper process that reads run B),
against two baselines from the same run: a process that only imports what the
diff imports (the memory floor), and one that streams both cassettes' steps
with `iter_steps` and does nothing else (the decoding floor that any
step-level diff pays). Beside `agentreplay.diff` it times the diff with both
runs read in one process, the whole `agentreplay diff A B` command (output
rendered to memory), and the CPU time of each phase: reading A, reading B,
aligning, the first divergence's field changes, rendering.

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
import agentreplay.rundiff.parallel
from agentreplay.rundiff import diff
from agentreplay.steps import iter_steps
start = time.perf_counter()
if mode == "diff":
    result = diff(a, b)
    print(result.summary(), file=sys.stderr)
elif mode == "one":  # both runs read in this process
    agentreplay.rundiff.parallel.PARALLEL_BYTES = 1 << 62
    result = diff(a, b)
    print(result.summary(), file=sys.stderr)
elif mode == "cli":
    import contextlib, io
    from agentreplay.cli import main
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["diff", a, b])
    print(len(out.getvalue().splitlines()), "lines", file=sys.stderr)
elif mode == "steps":
    for path in (a, b):
        with agentreplay.open(path) as cassette:
            n = sum(1 for _ in iter_steps(cassette, keep_exchange=True))
    print(n, file=sys.stderr)
elapsed = time.perf_counter() - start
# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across fork and exec.
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
import os, resource
helper = resource.getrusage(resource.RUSAGE_CHILDREN)  # the process reading run B, if any
cpu = time.process_time() + helper.ru_utime + helper.ru_stime
print(elapsed, peak, cpu, helper.ru_maxrss, file=sys.stderr)
"""

# Where a diff's time goes, phase by phase, both runs read in one process: the same
# calls `diff` and `agentreplay diff` make, timed one by one (CPU seconds).
_PHASES = """
import argparse, contextlib, io, sys, time
a, b = sys.argv[1], sys.argv[2]
from agentreplay.cli import diff as cli
from agentreplay.rundiff import engine
from agentreplay.rundiff.digest import read_run
from agentreplay.rundiff.ignore import Ignore
from agentreplay.rundiff.loader import CassetteLoader, opened
from agentreplay.rundiff.result import RunDiff
spent = {}
def phase(name, at=[time.process_time()]):
    now = time.process_time()
    spent[name] = now - at[0]
    at[0] = now
rules = Ignore.of(())
phase("start")
with opened(a) as ca, opened(b) as cb:
    side_a, steps_a, end_a = read_run(ca, rules)
    phase("read A")
    side_b, steps_b, end_b = read_run(cb, rules)
    phase("read B")
    tasks = engine._match_tasks(steps_a, steps_b)
    rows = engine._rows(steps_a, steps_b, tasks)
    outcome = engine._outcomes(end_a, end_b)
    phase("align")
    loader = CassetteLoader(ca, cb, rules)
    result = RunDiff(side_a, side_b, rows, tasks, outcome, rules.patterns, loader)
    first = result.first_divergence
    result.load_changes([first])
    phase("first divergence")
args = argparse.Namespace(json=False, step=None, context=3, all=False)
with contextlib.redirect_stdout(io.StringIO()):
    cli._show(result, args)
phase("render")
del spent["start"]
print(" ".join(f"{name.replace(' ', '_')}={value:.3f}" for name, value in spent.items()))
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


def measure(mode: str, a: Path, b: Path) -> tuple[float, int, float, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(a), str(b)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stderr.strip().splitlines()
    seconds, kib, cpu, helper_kib = lines[-1].split()
    said = lines[0] if len(lines) > 1 else ""
    return float(seconds), int(kib), float(cpu), int(helper_kib), said


def phases(a: Path, b: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PHASES, str(a), str(b)],
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = (item.split("=") for item in done.stdout.split())
    return {name.replace("_", " "): float(value) for name, value in pairs}


MODES = (
    ("imports", "imports only (floor)"),
    ("steps", "iter_steps over A and B"),
    ("one", "diff, both runs read here"),
    ("diff", "agentreplay.diff(A, B)"),
    ("cli", "agentreplay diff A B"),
)


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
        walls: dict[str, list[float]] = {mode: [] for mode, _ in MODES}
        cpu: dict[str, list[float]] = {mode: [] for mode, _ in MODES}
        peaks: dict[str, list[float]] = {mode: [] for mode, _ in MODES}
        split: dict[str, list[float]] = {}
        verdict = ""
        for _ in range(args.repeat):
            for mode, _ in MODES:
                seconds, kib, spent, helper_kib, said = measure(mode, a, b)
                walls[mode].append(seconds)
                cpu[mode].append(spent)
                # The helper's ru_maxrss may count this process's pages at the fork: an upper bound.
                peaks[mode].append((kib + helper_kib) / 1024)
                verdict = said if mode == "diff" else verdict
            for name, value in phases(a, b).items():
                split.setdefault(name, []).append(value)
    print(f"diff says: {verdict}")
    best = {mode: min(found) for mode, found in walls.items()}
    peak = {mode: statistics.median(found) for mode, found in peaks.items()}
    print("  (wall time best and worst of runs, CPU time best (helper process included), peak")
    print("   resident memory median (with the helper's, an upper bound))")
    for mode, label in MODES:
        print(
            f"  {label:27} {best[mode]:6.2f} s (worst {max(walls[mode]):6.2f})"
            f"  cpu {min(cpu[mode]):6.2f} s  {peak[mode]:7.1f} MiB peak"
        )
    print(
        "  where the time goes, both runs read in one process (CPU s, best of runs): "
        + ", ".join(f"{name} {min(values):.2f}" for name, values in split.items())
    )
    print(f"load average after: {load_average()}")
    fast, small = best["diff"] < 2.0, peak["diff"] < 200
    print(f"{'PASS' if fast else 'FAIL'}  diff under 2 s ({best['diff']:.2f} s, best of runs)")
    print(f"{'PASS' if small else 'FAIL'}  diff under 200 MB peak ({peak['diff']:.1f} MiB)")
    return 0 if fast and small else 1


if __name__ == "__main__":
    raise SystemExit(main())
