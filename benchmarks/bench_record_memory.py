"""Peak resident memory while recording many small exchanges, against no recording.

    python benchmarks/bench_record_memory.py [--exchanges 20000,200000] [--repeat 1] [--load 0]

Each run is a fresh Python process that makes ``N`` sequential ``GET /tool/{i}``
calls (distinct URLs, ~40-byte JSON answers) with one ``httpx.Client`` on
``httpx.MockTransport`` (no network), either without recording or inside
``agentreplay.record``, and reports its peak resident set size
(``ru_maxrss``), the cassette's close included. The modes run interleaved,
``--repeat`` times; the table shows the median peak of each.

``--load N`` keeps N other processes spinning on the CPU meanwhile, as on a
busy machine; with ``--starve-writer`` the recording's writer thread runs at
``SCHED_IDLE`` (Linux), so that it gets the CPU only when nothing else wants
it. It then falls behind the recording thread (compression and writes run
without the GIL, and lose the CPU there), which is what the bound on the
events waiting for it is for.

Target: the recording's peak within 20 MB of the no-recording run's, at every size.
Exit status 1 if a target is missed. 200,000 exchanges take a few minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import code_version, load_average

TARGET_MB = 20.0

_CHILD = r"""
import json, resource, sys
import httpx

mode, n, path, starve = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"

def handler(request):
    i = request.url.path.rsplit("/", 1)[-1]
    body = json.dumps({"tool": i, "answer": "result-" + i}).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))

def run(client):
    for i in range(n):
        response = client.get(f"http://tools.test/tool/{i}")
        if response.status_code != 200 or not response.content.startswith(b'{"tool": '):
            raise SystemExit(f"bad response to /tool/{i}")

import agentreplay

with httpx.Client(transport=httpx.MockTransport(handler)) as client:
    if mode == "record":
        with agentreplay.record(path):
            if starve:
                import os, threading
                (writer,) = [t for t in threading.enumerate() if t.name == "agentreplay-writer"]
                os.sched_setscheduler(writer.native_id, os.SCHED_IDLE, os.sched_param(0))
            run(client)
    else:
        run(client)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


_SPIN = "while True: pass"


def peak_mb(mode: str, n: int, path: Path, starve: bool) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(n), str(path), "1" if starve else "0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", default="20000,200000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--load", type=int, default=0, help="processes spinning meanwhile")
    parser.add_argument(
        "--starve-writer", action="store_true", help="run the writer thread at SCHED_IDLE"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.exchanges.split(",")]
    print(f"code: {code_version()}; python {sys.version.split()[0]}; nproc {os.cpu_count()}")
    print(f"load average before: {load_average()}")
    spinners = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(args.load)]
    if spinners:
        print(f"{len(spinners)} processes spinning on the CPU meanwhile")
    try:
        failed = measure(sizes, args.repeat, args.starve_writer)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    print(f"load average after: {load_average()}")
    return 1 if failed else 0


def measure(sizes: list[int], repeat: int, starve: bool) -> bool:
    """Print each size's peaks; whether a target was missed."""
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            peaks: dict[str, list[float]] = {"none": [], "record": []}
            size = 0
            for rep in range(repeat):
                for mode in peaks:
                    path = Path(tmp) / f"{n}-{rep}.cassette"
                    peaks[mode].append(peak_mb(mode, n, path, starve))
                    if mode == "record":
                        size = path.stat().st_size
                        path.unlink()
            base, rec = (statistics.median(peaks[m]) for m in ("none", "record"))
            ok = rec - base <= TARGET_MB
            failed |= not ok
            print(
                f"{n:>8,} exchanges: no recording {base:6.1f} MB, recording {rec:6.1f} MB "
                f"(+{rec - base:.1f} MB, {(rec - base) * 1024 * 1024 / n:.0f} B per exchange; "
                f"cassette {size / 1e6:.2f} MB)  {'PASS' if ok else 'FAIL'}",
                flush=True,
            )
    return failed


if __name__ == "__main__":
    sys.exit(main())
