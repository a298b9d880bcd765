"""What recording one captured run costs in CPU, measured in process.

    python benchmarks/bench_run_cost.py [--runs N] [--rounds R] [--concurrency C]
                                        [--profile FILE]

Part one, the recording path's fixed costs (`timeit` on this thread's CPU
time, best of 9): a `capture.run()` started and stopped with nothing in it,
and one HTTP exchange recorded through the recorder with what the openai SDK
sends (17 request headers with an ``Authorization``, a JSON body), a response
head and one body chunk, with a secret-named variable in the environment.

Part two, the capture tests' agent (`tests/capture/agent.py`): two model calls
with the openai SDK and one tool call over httpx, against a model server and a
tool server in a child process (so they do not share this process's CPU time).
Runs go ``--concurrency`` at a time in one event loop, as in an ASGI server. Three
configurations, interleaved round by round:

  off       capture not enabled: no hooks installed
  hooks     capture enabled (keep=errors), the agent called outside any run:
            the hooks' cost when nothing is recorded
  recorded  each agent call inside ``capture.run()`` (keep=errors); no run
            fails, so every run is recorded in memory and dropped

Reported: this process's CPU time (user + system, all threads) per run, the
median over rounds and the range; "recorded - off" is what recording a run
costs. On a shared machine this part moves by milliseconds from batch to
batch: only many rounds say anything. ``--profile FILE`` also writes a cProfile
of the recorded configuration (one extra batch) to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import code_version, load_average, start_capture_servers  # noqa: E402

CONFIGS = ("off", "hooks", "recorded")


def _numbers(count: int, start: int) -> list[int]:
    """Question numbers none of which fails (the agent fails on multiples of 5)."""
    return [n for n in range(start, start + count * 2) if n % 5][:count]


async def _batch(config: str, numbers: list[int], concurrency: int) -> None:
    from agentreplay import capture
    from tests.capture.agent import ask_async, async_clients

    client, http = async_clients()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with semaphore:
            if config == "recorded":
                async with capture.run("bench") as run:
                    await ask_async(n, client, http)
                assert run.captured
            else:
                await ask_async(n, client, http)

    try:
        await asyncio.gather(*(one(n) for n in numbers))
    finally:
        await http.aclose()
        await client.close()


def _measure(config: str, numbers: list[int], concurrency: int, sink: str) -> float:
    """CPU seconds per run for one batch of ``config``."""
    from agentreplay import capture

    if config != "off":
        capture.enable(sink, keep="errors")
    try:
        before = time.process_time()
        asyncio.run(_batch(config, numbers, concurrency))
        spent = time.process_time() - before
    finally:
        capture.disable(timeout=10)
    return spent / len(numbers)


def _fixed_costs() -> None:
    """Part one: a run's start and stop, and one exchange through the recorder."""
    from agentreplay import capture
    from agentreplay.cassette.memory import MemoryRun
    from agentreplay.runtime.contract import RequestInfo
    from agentreplay.runtime.tasks import TaskState
    from agentreplay.session.recorder import Recorder
    from agentreplay.session.redaction import Redaction

    def best(func: Callable[[], object], number: int) -> float:
        timer = timeit.Timer(func, timer=time.thread_time)
        return min(timer.repeat(repeat=9, number=number)) / number * 1e6

    def run() -> None:
        with capture.run("bench"):
            pass

    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"what is 12"}]}'
    names = ["accept", "accept-encoding", "connection", "content-type", "host", "user-agent"]
    names += [f"x-stainless-{n}" for n in ("lang", "os", "arch", "runtime", "async")]
    names += [f"x-stainless-{n}" for n in ("package-version", "runtime-version", "retry-count")]
    names += ["x-stainless-read-timeout", "content-length"]
    headers = tuple((name, "value-of-" + name) for name in names)
    headers += (("authorization", "Bearer sk-test-0123456789"),)
    info = RequestInfo("POST", "http://127.0.0.1:1/v1/chat/completions", headers, body, "httpx")
    answer = b'{"choices":[{"message":{"role":"assistant","content":"the answer"}}]}' * 3
    head = (("date", "today"), ("server", "uvicorn"), ("content-type", "application/json"))
    os.environ["BENCH_SERVICE_TOKEN"] = "bench-secret-0123456789"
    with tempfile.TemporaryDirectory() as sink:
        capture.enable(sink, keep="errors")
        try:
            for _ in range(200):
                run()
            print(f"run start + stop, nothing recorded: {best(run, 200):.1f} us")
        finally:
            capture.disable(timeout=10)
    recorder = Recorder(MemoryRun(1 << 40), Redaction().redactor())
    task = TaskState("0", None)

    def exchange() -> None:
        recording = recorder.http(task, info)
        recording.response(200, head, "HTTP/1.1", "OK")
        recording.chunk(answer)
        recording.end(True)

    print(f"one exchange through the recorder: {best(exchange, 2000):.1f} us")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per batch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    print(f"# load average {load_average()}")
    _fixed_costs()
    servers, model_url, tool_url = start_capture_servers()
    os.environ.update(MODEL_URL=model_url, TOOL_URL=tool_url, TOOL_DELAY="0")
    cpu: dict[str, list[float]] = {name: [] for name in CONFIGS}
    loads = [load_average()]
    try:
        with tempfile.TemporaryDirectory() as sink:
            for config in CONFIGS:  # warm up: imports, connections, caches
                _measure(config, _numbers(20, 1), args.concurrency, sink)
            start = 1000
            for _ in range(args.rounds):
                for config in CONFIGS:
                    numbers = _numbers(args.runs, start)
                    start += args.runs * 2
                    cpu[config].append(_measure(config, numbers, args.concurrency, sink))
                loads.append(load_average())
            if args.profile is not None:
                profiler = cProfile.Profile()
                profiler.enable()
                _measure("recorded", _numbers(args.runs, start), args.concurrency, sink)
                profiler.disable()
                profiler.dump_stats(args.profile)
    finally:
        servers.kill()
        servers.wait()
    print(f"# {code_version()}; load average before and after each round: {loads}")
    print(
        f"# {args.rounds} rounds x {args.runs} runs per configuration, "
        f"{args.concurrency} at a time; CPU ms per run: median [min-max]"
    )
    medians = {name: statistics.median(values) * 1000 for name, values in cpu.items()}
    for name in CONFIGS:
        values = cpu[name]
        print(f"{name:<9} {medians[name]:7.3f} [{min(values) * 1000:.3f}-{max(values) * 1000:.3f}]")
    deltas = [(r - o) * 1000 for r, o in zip(cpu["recorded"], cpu["off"], strict=True)]
    print(
        f"recorded - off, per round: median {statistics.median(deltas):.3f} ms "
        f"[{min(deltas):.3f}-{max(deltas):.3f}]; "
        f"vs off {medians['recorded'] / medians['off'] - 1:+.1%}"
    )
    hooks = [(h - o) * 1000 for h, o in zip(cpu["hooks"], cpu["off"], strict=True)]
    print(f"hooks - off, per round: median {statistics.median(hooks):.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
