"""Production capture's cost: an ASGI app under 50 concurrent clients.

    python benchmarks/bench_capture.py [--requests N] [--rounds R] [--clients C]

The app is the capture tests' Starlette app (`tests/capture/app.py`) served by
uvicorn in a child process: each request runs an agent that makes two model
calls with the openai SDK and one tool call over httpx, against a model server
and a tool server in another child process (so neither competes with the app
for its GIL). One request in 50 fails by the model's answer. Three
configurations of the same app, with `capture.ASGIMiddleware` in place:

  off          capture not enabled (the middleware passes requests through)
  keep=errors  every request recorded in memory; the failed ones written
  keep=all     every request recorded and written

Each round sends ``--requests`` requests (after 50 to warm up) from ``--clients``
concurrent clients, for each configuration in turn; rounds interleave the
configurations. Reported: latency p50 and p99 over all rounds, requests per second
(median round), and the app process's CPU time per request (user + system, from
/proc, the capture writer's thread included). Targets for keep=errors against off:
p50 latency +3% at most, CPU per request +5% at most.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import code_version, load_average, start_capture_servers  # noqa: E402

from tests.capture.agent import FAIL_EVERY  # noqa: E402
from tests.capture.conftest import free_port  # noqa: E402

CONFIGS = {"off": None, "keep=errors": "errors", "keep=all": "all"}


def _numbers(count: int) -> list[int]:
    """Question numbers of which one in 50 fails (divisible by FAIL_EVERY)."""
    out: list[int] = []
    n = 1
    while len(out) < count:
        failing = len(out) % 50 == 25
        while (n % FAIL_EVERY == 0) != failing:
            n += 1
        out.append(n)
        n += 1
    return out


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(base: str, numbers: list[int], clients: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in numbers:
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                start = time.perf_counter()
                response = await client.post(f"{base}/ask/{n}")
                latencies.append(time.perf_counter() - start)
                assert response.status_code == (500 if n % FAIL_EVERY == 0 else 200)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


class App:
    def __init__(self, keep: str | None, env: dict[str, str], sink: Path) -> None:
        self.port = free_port()
        env = {**os.environ, **env, "TOOL_DELAY": "0", "ANSWER_FAILURES": "1"}
        if keep is not None:
            env.update(CAPTURE_SINK=str(sink), CAPTURE_KEEP=keep)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.capture.app:app",
            "--port",
            str(self.port),
        ]
        command += [
            "--host",
            "127.0.0.1",
            "--no-access-log",
            "--log-level",
            os.environ.get("BENCH_LOG", "critical"),
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                httpx.get(self.base + "/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the app did not start")

    def stop(self) -> None:
        self.process.send_signal(2)
        self.process.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    servers, model_url, tool_url = start_capture_servers()
    env = {"MODEL_URL": model_url, "TOOL_URL": tool_url}
    numbers = _numbers(args.requests)
    latencies: dict[str, list[float]] = {name: [] for name in CONFIGS}
    rates: dict[str, list[float]] = {name: [] for name in CONFIGS}
    cpu: dict[str, list[float]] = {name: [] for name in CONFIGS}
    written: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for round_ in range(args.rounds):
                for name, keep in CONFIGS.items():
                    sink = Path(tmp) / f"{name}-{round_}"
                    app = App(keep, env, sink)
                    try:
                        asyncio.run(_load(app.base, _numbers(50), args.clients))
                        before, start = _cpu(app.process.pid), time.perf_counter()
                        latencies[name] += asyncio.run(_load(app.base, numbers, args.clients))
                        elapsed = time.perf_counter() - start
                        cpu[name].append((_cpu(app.process.pid) - before) / len(numbers))
                        rates[name].append(len(numbers) / elapsed)
                    finally:
                        app.stop()
                    written[name] = len(list(sink.glob("*/*.cassette")))
        finally:
            servers.kill()
            servers.wait()
    failed = sum(n % FAIL_EVERY == 0 for n in numbers)
    print(f"# {code_version()}; load average {load_average()}")
    print(
        f"# {args.rounds} rounds x {len(numbers)} requests ({failed} failing), "
        f"{args.clients} clients; cassettes written in the last round: {written}"
    )
    print(f"{'config':<12} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'CPU ms/req':>11}")
    base = None
    for name in CONFIGS:
        ordered = sorted(latencies[name])
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
        row = (p50, p99, statistics.median(rates[name]), statistics.median(cpu[name]) * 1000)
        base = base or row
        print(
            f"{name:<12} {row[0]:>8.1f} {row[1]:>8.1f} {row[2]:>7.1f} {row[3]:>11.2f}"
            f"   ({row[0] / base[0] - 1:+.1%} p50, {row[3] / base[3] - 1:+.1%} CPU)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
