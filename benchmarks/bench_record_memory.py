"""Peak resident memory while recording many small exchanges, against no recording.

    python benchmarks/bench_record_memory.py [--exchanges 20000,200000] [--repeat 1]

Each run is a fresh Python process that makes ``N`` sequential ``GET /tool/{i}``
calls (distinct URLs, ~40-byte JSON answers) with one ``httpx.Client`` on
``httpx.MockTransport`` (no network), either without recording or inside
``agentreplay.record``, and reports its peak resident set size
(``ru_maxrss``), the cassette's close included. The modes run interleaved,
``--repeat`` times; the table shows the median peak of each.

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

mode, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]

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
            run(client)
    else:
        run(client)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mb(mode: str, n: int, path: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(n), str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", default="20000,200000")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.exchanges.split(",")]
    print(f"code: {code_version()}; python {sys.version.split()[0]}; nproc {os.cpu_count()}")
    print(f"load average before: {load_average()}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            peaks: dict[str, list[float]] = {"none": [], "record": []}
            size = 0
            for rep in range(args.repeat):
                for mode in peaks:
                    path = Path(tmp) / f"{n}-{rep}.cassette"
                    peaks[mode].append(peak_mb(mode, n, path))
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
    print(f"load average after: {load_average()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
