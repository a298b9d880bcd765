"""Runs examples/crewai_agent.py inside CrewAI's own environment (tests/integrations/
crewai_env.py), recorded or replayed, and prints what the agent did as one JSON line.

    python crewai_run.py record JOB
    python crewai_run.py replay JOB [JOB ...]

A JOB is a JSON object: ``cassette``, ``stream`` (the model's answers streamed),
``times`` (replays) and ``env`` (variables set for it: the servers' URLs). ``record``
prints ``{"run": RUN}``; ``replay`` prints ``{"replays": [[RUN, ...], ...]}``, one
list per job, or ``{"error": ...}`` for the first replay that did not reproduce its
recording. A RUN is the crew's answer and its task's transcript: every message the
model was sent, tool results included. Replays of several jobs in one process save
starting it (importing CrewAI takes seconds).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import agentreplay

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

import crewai_agent  # from examples/, put on the path just above

QUESTION = "Where is my order A-1001?"


def run(job: dict[str, Any]) -> dict[str, Any]:
    os.environ.update(job.get("env", {}))
    output = crewai_agent.ask(QUESTION, job.get("stream", False))
    (task,) = output.tasks_output
    return {"answer": output.raw, "messages": json.loads(json.dumps(task.messages, default=str))}


def main() -> None:
    mode, *jobs = sys.argv[1:]
    specs = [json.loads(job) for job in jobs]
    if mode == "record":
        (spec,) = specs
        with agentreplay.record(spec["cassette"]):
            recorded = run(spec)
        print(json.dumps({"run": recorded}))
        return
    replays = []
    for spec in specs:
        runs = []
        for _ in range(spec.get("times", 1)):
            with agentreplay.replay(spec["cassette"]) as replay:
                runs.append(run(spec))
            if replay.result is None or not replay.result.reproduced:
                print(json.dumps({"error": f"{spec['cassette']}: {replay.result}"}))
                return
        replays.append(runs)
    print(json.dumps({"replays": replays}))


if __name__ == "__main__":
    main()
