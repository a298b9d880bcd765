"""The network guard's audit hook: what it adds to a replayed clock read.

    python benchmarks/bench_audit.py [--reads N] [--repeat R]

An audit hook is called for every audited event of the process, and the
clock hooks call ``sys._getframe`` (an audited event) on every read. This
measures, in one process, a replayed ``time.time()`` read (inside
``agentreplay.replay``) before the audit hook exists (its installation
replaced by a no-op) and after it is added, as loops of ``--reads`` reads
minus an empty loop, median of ``--repeat`` runs; and a bare
``sys._getframe()`` call with no session, before and after (a process that
replayed once keeps the hook).

Target: the hook adds at most 0.2 us to a replayed read.
Exit status 1 if it is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import agentreplay
from agentreplay.runtime import registry

_perf = time.perf_counter


def _loop(body: Callable[[], object], reads: int) -> float:
    start = _perf()
    for _ in range(reads):
        body()
    return _perf() - start


def _per_read(body: Callable[[], object], reads: int, repeat: int) -> float:
    """Median microseconds per call, the empty loop taken off."""
    runs = [(_loop(body, reads) - _loop(lambda: None, reads)) / reads * 1e6 for _ in range(repeat)]
    return statistics.median(runs)


def _replayed(cassette: Path, reads: int, repeat: int) -> float:
    results = []
    for _ in range(repeat):
        with agentreplay.replay(cassette):
            results.append(_per_read(time.time, reads, 1))
    return statistics.median(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    reads, repeat = args.reads, args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        cassette = Path(tmp) / "clock.cassette"
        with agentreplay.record(cassette):
            for _ in range(reads * 2):  # the empty-loop subtraction reads nothing
                time.time()
        frame_before = _per_read(lambda: sys._getframe(), reads, repeat)
        real = registry.guard_network
        registry.guard_network = lambda: None
        try:
            without = _replayed(cassette, reads, repeat)
        finally:
            registry.guard_network = real
        with_hook = _replayed(cassette, reads, repeat)
        frame_after = _per_read(lambda: sys._getframe(), reads, repeat)
    added = with_hook - without
    print(f"{'':38} {'no hook':>10} {'audit hook':>11} {'added':>8}")
    print(f"{'replayed time.time() read':38} {without:9.3f}us {with_hook:10.3f}us {added:7.3f}us")
    frame_added = frame_after - frame_before
    print(
        f"{'sys._getframe(), no session':38} {frame_before:9.3f}us {frame_after:10.3f}us "
        f"{frame_added:7.3f}us"
    )
    ok = added <= 0.2
    print(f"target: at most 0.2 us added to a replayed read: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
