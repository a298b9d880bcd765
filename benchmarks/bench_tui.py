"""The terminal UI on a 100k-event cassette: first paint, peak memory, first to last step.

    python benchmarks/bench_tui.py [--repeat R]

Writes the same cassette as bench_show_memory.py (2,000 streamed LLM calls of
45 chunks, ~98,000 events), then runs the real ``agentreplay tui FILE`` in an
80x24 pseudo-terminal whose screen is read through a terminal emulator
(pyte), and measures, for each of ``--repeat`` fresh processes:

  first paint   from starting the process to the first step row on screen
  decoded       from starting the process to the header's totals (every step
                decoded by the background pass)
  G             from pressing G on step 1 to step 2,000 drawn in the detail pane
  peak RSS      the process's high-water mark (VmHWM) once everything is decoded

Baselines in the same run: the time to start a Python process that imports
the TUI's modules and exits (the floor under any first paint), and the peak
RSS and wall time of ``agentreplay show FILE --limit 20``.

Targets: first paint under 1 s; peak memory within 2x of show's.
Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect
import pyte
from _common import code_version, load_average
from bench_show_memory import write_cassette

COLUMNS, LINES = 80, 24


class Screen:
    def __init__(self, path: Path) -> None:
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.started = time.perf_counter()
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "agentreplay", "tui", str(path)],
            env={"TERM": "xterm-256color", "PATH": "/usr/bin:/bin"},
            dimensions=(LINES, COLUMNS),
            timeout=120,
        )

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, text: str, timeout: float = 120.0) -> float:
        """Read the screen until ``text`` is on it; the perf_counter() of that moment."""
        deadline = time.perf_counter() + timeout
        while text not in self.text():
            if time.perf_counter() > deadline:
                raise SystemExit(f"{text!r} never appeared:\n{self.text()}")
            with contextlib.suppress(pexpect.TIMEOUT):
                self.stream.feed(self.child.read_nonblocking(1 << 16, timeout=0.01))
        return time.perf_counter()

    def peak_kib(self) -> int:
        status = Path(f"/proc/{self.child.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1])

    def quit(self) -> None:
        self.child.send("q")
        self.child.expect(pexpect.EOF)
        self.child.close()


def measure_tui(path: Path) -> dict[str, float]:
    screen = Screen(path)
    painted = screen.wait_for("1 L ")
    decoded = screen.wait_for("2,000 LLM calls")
    screen.wait_for("step 1 L gpt-4o")
    peak = screen.peak_kib()
    pressed = time.perf_counter()
    screen.child.send("G")
    moved = screen.wait_for("step 2000 L gpt-4o")
    screen.quit()
    return {
        "first paint": painted - screen.started,
        "decoded": decoded - screen.started,
        "G": moved - pressed,
        "peak": peak / 1024,
    }


_FLOOR = "import agentreplay.cli, agentreplay.tui.app, agentreplay.tui.screens.run"

_SHOW = """
import resource, sys
from agentreplay.cli import main
main(["show", sys.argv[1], "--limit", "20"])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def measure_floor() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _FLOOR], check=True)
    return time.perf_counter() - started


def measure_show(path: Path) -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _SHOW, str(path)], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, int(done.stderr.split()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{code_version()}, load average {load_average()}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.cassette"
        events = write_cassette(path)
        print(f"cassette: {events:,} events, {path.stat().st_size / 1e6:.1f} MB on disk")
        runs, floors, shows = [], [], []
        for _ in range(args.repeat):  # interleaved, so a busy moment hits all alike
            floors.append(measure_floor())
            shows.append(measure_show(path))
            runs.append(measure_tui(path))
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    floor = statistics.median(floors)
    show_time = statistics.median(s[0] for s in shows)
    show_peak = statistics.median(s[1] for s in shows)
    print(f"medians of {args.repeat} runs:")
    print(f"  start Python and import the TUI (floor)   {floor * 1000:7.0f} ms")
    print(f"  agentreplay show --limit 20 (whole run)   {show_time * 1000:7.0f} ms")
    print(f"  tui: first paint (step rows on screen)    {median['first paint'] * 1000:7.0f} ms")
    print(f"  tui: every step decoded (totals shown)    {median['decoded'] * 1000:7.0f} ms")
    print(f"  tui: G, step 1 to step 2,000 drawn        {median['G'] * 1000:7.0f} ms")
    print(f"  peak RSS: show {show_peak:.1f} MiB, tui {median['peak']:.1f} MiB")
    ratio = median["peak"] / show_peak
    print(f"  tui / show peak memory: {ratio:.2f}x")
    paint_ok = median["first paint"] < 1.0
    memory_ok = ratio <= 2.0
    print(f"{'PASS' if paint_ok else 'FAIL'}  first paint under 1 s")
    print(f"{'PASS' if memory_ok else 'FAIL'}  peak memory within 2x of show's")
    return 0 if paint_ok and memory_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
