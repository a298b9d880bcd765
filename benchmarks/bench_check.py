"""`agentreplay check` over a corpus against replaying its cassettes one by one.

    python benchmarks/bench_check.py [--cassettes N] [--jobs J] [--baseline K] [--keep DIR]

Records N runs (default 200) of examples/support_agent.py's @entrypoint against
the demo's local model and tool servers (about one run in four fails on the
agent's bug, as in the demo), stops the servers, then replays the corpus
offline twice, on the code as recorded:

  check        ``agentreplay check DIR -j J --json`` (one command)
  one by one   ``agentreplay replay FILE`` for each cassette in turn, the way a
               script without ``check`` would go through a corpus

Reported for each: wall time, cassettes per second, CPU time of the child
processes (user + system), and that every cassette reproduced; then the
ratio of the two rates. ``--baseline K`` replays only the first K cassettes one
by one (on a loaded machine the baseline is the long part); the rates are per
cassette either way. ``--keep DIR`` records the corpus into DIR, or reuses the
one already there. Each replay starts a fresh interpreter that
imports the agent and the openai SDK, which is most of its cost; ``check``
starts one interpreter per cassette, a ``replay`` command two (the command's
own and the replay's).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import code_version, load_average  # noqa: E402

from agentreplay.cli.demo_run import support_responder  # noqa: E402
from agentreplay.demo.model_server import ModelServer  # noqa: E402
from agentreplay.demo.tool_server import ToolServer  # noqa: E402


def record(agent_dir: Path, corpus: Path, runs: int) -> None:
    model = ModelServer(support_responder(seed=11)).start()
    tools = ToolServer().start()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    try:
        os.chdir(agent_dir)
        sys.path.insert(0, str(agent_dir))
        os.environ.update(
            OPENAI_BASE_URL=f"{model.url}/v1",
            SUPPORT_TOOLS_URL=tools.url,
            OPENAI_API_KEY="sk-bench",
            AGENTREPLAY_MODE="record",
            AGENTREPLAY_CASSETTE=str(corpus / "{timestamp}-{run_id}.cassette"),
            AGENTREPLAY_ENV="OPENAI_BASE_URL,SUPPORT_TOOLS_URL",
        )
        agent: Any = __import__("support_agent")
        with (
            open(os.devnull, "w") as quiet,
            contextlib.redirect_stderr(quiet),
            contextlib.redirect_stdout(quiet),
        ):
            for _ in range(runs):
                with contextlib.suppress(KeyError):  # the agent's bug, recorded
                    agent.main("Where is my order?")
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        model.stop()
        tools.stop()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AGENTREPLAY_", "OPENAI"))}


def run_check(corpus: Path, jobs: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, cassettes reproduced)."""
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "agentreplay", "check", str(corpus), "-j", str(jobs), "--json"],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    results = json.loads(done.stdout)["results"]
    return wall, _children_cpu() - cpu, sum(r["verdict"] == "reproduced" for r in results)


def run_one_by_one(cassettes: list[Path]) -> tuple[float, float, int]:
    cpu, started = _children_cpu(), time.perf_counter()
    reproduced = 0
    for cassette in cassettes:
        done = subprocess.run(
            [sys.executable, "-m", "agentreplay", "replay", str(cassette)],
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        reproduced += done.returncode == 0
    return time.perf_counter() - started, _children_cpu() - cpu, reproduced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cassettes", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=None, metavar="K")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    print(f"code: {code_version()}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench-check-"))
    try:
        agent_dir, corpus = tmp / "agent", tmp / "corpus"
        if not corpus.is_dir():
            agent_dir.mkdir(parents=True)
            corpus.mkdir()
            shutil.copy(ROOT / "examples" / "support_agent.py", agent_dir)
            started = time.perf_counter()
            record(agent_dir, corpus, args.cassettes)
            print(f"recorded {args.cassettes} runs in {time.perf_counter() - started:.1f} s")
        cassettes = sorted(corpus.glob("*.cassette"))
        baseline = cassettes[: args.baseline]
        print(f"load average before: {load_average()}", flush=True)
        print(f"{'':<20} {'cassettes':>9} {'wall':>9} {'cassettes/s':>12} {'CPU/cassette':>13}")
        rates = []
        phases: list[tuple[str, Callable[[], tuple[float, float, int]], int]] = [
            (f"check -j {args.jobs}", lambda: run_check(corpus, args.jobs), len(cassettes)),
            ("replay one by one", lambda: run_one_by_one(baseline), len(baseline)),
        ]
        for name, measure, count in phases:
            wall, cpu, reproduced = measure()
            assert reproduced == count, f"{name}: {reproduced} of {count} reproduced"
            rates.append((count / wall, cpu / count))
            print(
                f"{name:<20} {count:>9} {wall:>8.1f}s {count / wall:>12.2f} "
                f"{cpu / count:>12.2f}s  (load average {load_average()})",
                flush=True,
            )
        (check_rate, check_cpu), (one_rate, one_cpu) = rates
        print(f"check replays {check_rate / one_rate:.2f}x as many cassettes per second")
        print(f"and uses {check_cpu / one_cpu:.2f}x the CPU per cassette of replaying one by one")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
