"""HTTP record/replay cost: agentreplay against no recording and against vcrpy.

    python benchmarks/bench_http.py [--calls N] [--repeat R] [--clients httpx,httpx2]
                                    [--server process|thread]

Workload: ``--calls`` (1000) sequential GET requests to ``/tool/{i}`` (distinct
URLs, small JSON answers) with one keep-alive ``httpx.Client`` (then
``httpx2.Client``) against a tiny HTTP/1.1 server on 127.0.0.1 started by this
script (in a child process by default, so it does not compete with the client
for the GIL). Modes, each timed from entering to leaving its ``with`` block:

  (a) live           no recording
  (b) ar record      ``agentreplay.record(path)``
  (c) ar replay      ``agentreplay.replay(path)`` of the cassette (b) just wrote
  (d) vcr record     ``vcr.use_cassette(yaml, record_mode="all")``
  (e) vcr replay     ``record_mode="none"`` of the YAML (d) just wrote

vcrpy matches on ``["method", "uri", "body"]``. The modes run interleaved,
``--repeat`` times; the table shows the median (and min) per call, the loop
alone, and the CPU time of this process (the client and agentreplay's writer
thread; the server is elsewhere), which is less sensitive to a busy machine.
Replay modes are checked not to reach the server (its request counter must not
move). Two more modes, (m) and (n), repeat (a) and (b) against
``httpx.MockTransport``: the recording's own cost per call with no network.

Targets: record overhead (b)/(a) - 1 <= +10%; replay speed-up against vcrpy
replay (e)/(c) >= 10x; replay faster than live calls, (c)/(a) < 1.
Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_perf = time.perf_counter  # bound before agentreplay hooks time.perf_counter
_cpu = time.process_time  # CPU time of this process (client and writer thread), not the server

from _common import code_version, load_average  # noqa: E402  (benchmarks/, beside this script)

import agentreplay  # noqa: E402

RECORD_OVERHEAD_TARGET = 0.10
VCR_SPEEDUP_TARGET = 10.0
REPLAY_VS_LIVE_TARGET = 1.0

SERVER_CODE = r"""
import json, socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count = 0
lock = threading.Lock()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        global count
        if self.path == "/count":
            body = str(count).encode()
        else:
            with lock:
                count += 1
            n = self.path.rsplit("/", 1)[-1]
            body = json.dumps({"tool": n, "answer": "result-" + n}).encode()
        # one write: status line, headers and body together
        self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\n\r\n%s" % (len(body), body))

class Server(ThreadingHTTPServer):
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
print("http://127.0.0.1:%d" % server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
"""


class BenchServer:
    """The keep-alive server, in a child process (default) or a thread of this one."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._proc: subprocess.Popen[str] | None = None
        if where == "process":
            self._proc = subprocess.Popen(
                [sys.executable, "-c", SERVER_CODE + "\nsys.stdin.read()\n"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self._proc.stdout is not None
            self.url = self._proc.stdout.readline().strip()
        else:
            namespace: dict[str, Any] = {"__name__": "bench_server"}
            exec(compile(SERVER_CODE, "<bench-server>", "exec"), namespace)
            self._server = namespace["server"]
            self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self) -> int:
        import urllib.request

        with urllib.request.urlopen(self.url + "/count") as response:
            return int(response.read())

    def stop(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(5)
        else:
            self._server.shutdown()
            self._server.server_close()


def calls(client: Any, base: str, n: int) -> None:
    for i in range(n):
        response = client.get(f"{base}/tool/{i}")
        if response.status_code != 200 or not response.content.startswith(b'{"tool": '):
            raise SystemExit(
                f"bad response to /tool/{i}: {response.status_code} {response.content[:80]!r}"
            )


def timed(
    make_client: Callable[[], Any], base: str, n: int, session: Callable[[], Any] | None
) -> tuple[float, float, float]:
    """Seconds from entering the session to leaving it, seconds of the call loop alone,
    and CPU seconds of this process over the whole session."""
    with make_client() as client:
        client.get(f"{base}/tool/warmup")  # the keep-alive connection is open before timing
        gc.collect()
        c0 = _cpu()
        t0 = _perf()
        if session is None:
            t1 = _perf()
            calls(client, base, n)
            t2 = _perf()
        else:
            with session():
                t1 = _perf()
                calls(client, base, n)
                t2 = _perf()
        t3 = _perf()
        c1 = _cpu()
    return t3 - t0, t2 - t1, c1 - c0


def mock_handler(mod: Any) -> Callable[[Any], Any]:
    """A transport answer shaped like the server's, for the no-network figures."""
    import json

    def handler(request: Any) -> Any:
        n = request.url.path.rsplit("/", 1)[-1]
        body = json.dumps({"tool": n, "answer": "result-" + n}).encode()
        return mod.Response(
            200,
            headers=[
                ("server", "BaseHTTP/0.6 Python/3.11"),
                ("date", "Sat, 28 Nov 2026 10:00:00 GMT"),
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
            ],
            stream=mod.ByteStream(body),
        )  # not content=: see below

    # With content=..., httpx reads the body inside Response() and the transport hook
    # never sees it stream by, so the recording would hold no body at all.
    return handler


MODES = [
    ("a", "live (no recording)"),
    ("b", "agentreplay record"),
    ("c", "agentreplay replay"),
    ("d", "vcrpy record"),
    ("e", "vcrpy replay"),
    ("m", "no network: live"),
    ("n", "no network: ar record"),
]


def bench_client(
    lib: str, server: BenchServer, n: int, repeat: int, vcr_repeat: int, tmp: Path
) -> dict[str, dict[str, list[float]]]:
    import importlib

    import vcr

    mod = importlib.import_module(lib)
    my_vcr = vcr.VCR(match_on=["method", "uri", "body"])
    results: dict[str, dict[str, list[float]]] = {
        m: {"total": [], "loop": [], "cpu": []} for m, _ in MODES
    }
    base = server.url
    handler = mock_handler(mod)

    def make_client() -> Any:
        return mod.Client()

    def make_mock_client() -> Any:
        return mod.Client(transport=mod.MockTransport(handler))

    for rep in range(-1, repeat):  # rep -1: an untimed warm-up round (imports, first hooks)
        cassette = tmp / f"{lib}-{rep}.cassette"
        yaml = tmp / f"{lib}-{rep}.yaml"
        plan: list[tuple[str, Callable[[], Any] | None, bool]] = [
            ("a", None, False),
            ("b", functools.partial(agentreplay.record, cassette), False),
            ("c", functools.partial(agentreplay.replay, cassette), True),
            ("m", None, False),
            ("n", functools.partial(agentreplay.record, tmp / f"{lib}-mock.cassette"), False),
        ]
        if rep < vcr_repeat:  # also the warm-up round
            plan += [
                ("d", functools.partial(my_vcr.use_cassette, str(yaml), record_mode="all"), False),
                ("e", functools.partial(my_vcr.use_cassette, str(yaml), record_mode="none"), True),
            ]
        for mode, session, offline in plan:
            before = server.count() if offline else 0
            client = make_mock_client if mode in "mn" else make_client
            total, loop, cpu = timed(client, base, n if rep >= 0 else min(n, 50), session)
            if offline:
                reached = server.count() - before - 1  # minus the warm-up call
                if reached:
                    raise SystemExit(f"{lib} mode ({mode}) reached the server {reached} times")
            if rep < 0:
                continue
            results[mode]["total"].append(total)
            results[mode]["loop"].append(loop)
            results[mode]["cpu"].append(cpu)
            print(
                f"  {lib} rep {rep + 1}/{repeat} ({mode}) {total * 1e3:9.1f} ms",
                file=sys.stderr,
                flush=True,
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--vcr-repeat",
        type=int,
        default=3,
        help="repetitions of the (slow) vcrpy modes (default 3)",
    )
    parser.add_argument("--clients", default="httpx,httpx2")
    parser.add_argument("--server", choices=("process", "thread"), default="process")
    args = parser.parse_args()

    print(
        f"bench_http: {args.calls} keep-alive GETs per run, median of {args.repeat} runs "
        f"(vcrpy: {min(args.vcr_repeat, args.repeat)}), server in a {args.server}"
    )
    print(
        f"python {platform.python_version()}, nproc {os.cpu_count()}, "
        f"{platform.platform()}, {datetime.date.today().isoformat()}"
    )
    versions = []
    for name in ("httpx", "httpx2", "vcr"):
        with contextlib.suppress(Exception):
            versions.append(f"{name} {__import__(name).__version__}")
    print(f"agentreplay {agentreplay.__version__}, " + ", ".join(versions))
    print(f"load average at start: {load_average()}")
    print(f"code: {code_version()}")

    server = BenchServer(args.server)
    failed = False
    try:
        with tempfile.TemporaryDirectory(prefix="bench_http-") as tmpdir:
            for lib in args.clients.split(","):
                results = bench_client(
                    lib,
                    server,
                    args.calls,
                    args.repeat,
                    min(args.vcr_repeat, args.repeat),
                    Path(tmpdir),
                )
                failed |= report(lib, results, args.calls)
    finally:
        server.stop()
    print(f"\nload average at end: {load_average()}")
    print("result:", "FAIL" if failed else "PASS")
    return 1 if failed else 0


def report(lib: str, results: dict[str, dict[str, list[float]]], n: int) -> bool:
    def per_call(mode: str, key: str = "total") -> float:
        return statistics.median(results[mode][key]) / n

    print(f"\n{lib}.Client, {n} calls, us per call:  median       min  loop only    CPU   runs")
    for mode, label in MODES:
        totals = results[mode]["total"]
        if not totals:
            continue
        print(
            f"  ({mode}) {label:<26} {per_call(mode) * 1e6:9.1f} {min(totals) / n * 1e6:9.1f}"
            f" {per_call(mode, 'loop') * 1e6:9.1f} {per_call(mode, 'cpu') * 1e6:7.1f}"
            f"   {len(totals)}"
        )
    a, b, c = per_call("a"), per_call("b"), per_call("c")
    overhead = b / a - 1
    vs_live = c / a
    checks: list[tuple[str, str, bool | None]] = [
        (
            f"record overhead (b)/(a) - 1        = {overhead * 100:+7.1f} %",
            f"<= +{RECORD_OVERHEAD_TARGET * 100:.0f} %",
            overhead <= RECORD_OVERHEAD_TARGET,
        ),
    ]
    if results["e"]["total"]:
        speedup = per_call("e") / c
        checks.append(
            (
                f"replay speed-up vs vcrpy (e)/(c)   = {speedup:8.1f} x",
                f">= {VCR_SPEEDUP_TARGET:.0f} x",
                speedup >= VCR_SPEEDUP_TARGET,
            )
        )
    checks.append(
        (
            f"replay vs live (c)/(a)             = {vs_live:8.3f}",
            f"< {REPLAY_VS_LIVE_TARGET:.0f}",
            vs_live < REPLAY_VS_LIVE_TARGET,
        )
    )
    cpu_overhead = per_call("b", "cpu") / per_call("a", "cpu") - 1
    checks.append(
        (
            f"(info) record overhead in CPU time of this process: "
            f"{cpu_overhead * 100:+.1f} %; paired rounds: "
            f"{paired(results, 'b', 'a') * 100:+.1f} % (median of (b)/(a) - 1 per round)",
            "",
            None,
        )
    )
    checks.append(
        (
            f"(info) recording cost per call without network (n) - (m): "
            f"{(per_call('n') - per_call('m')) * 1e6:+.1f} us wall, "
            f"{(per_call('n', 'cpu') - per_call('m', 'cpu')) * 1e6:+.1f} us CPU",
            "",
            None,
        )
    )
    if results["d"]["total"]:
        checks.append(
            (
                f"(info) vcrpy record overhead (d)/(a) - 1 = "
                f"{(per_call('d') / a - 1) * 100:+.1f} %",
                "",
                None,
            )
        )
    failed = False
    for text, target, ok in checks:
        if ok is None:
            print(f"  {text}")
            continue
        print(f"  {text}   target {target:<8} {'PASS' if ok else 'FAIL'}")
        failed |= not ok
    return failed


def paired(results: dict[str, dict[str, list[float]]], x: str, y: str) -> float:
    """Median over rounds of x/y - 1 (both measured in the same round, back to back)."""
    return statistics.median(
        p / q - 1 for p, q in zip(results[x]["total"], results[y]["total"], strict=False)
    )


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
