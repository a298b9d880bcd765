"""``agentreplay demo``: catch a flaky agent failing, then make it fail again, twice.

1. Start a local OpenAI-compatible model server that samples its answers at
   random, and a local tool server: no API key, no network.
2. Record ``examples/support_agent.py`` run after run until one fails.
3. Show the failing run, step by step.
4. Stop both servers and replay the failing run twice: it fails the same way.
5. Print the commands to try next.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console

from agentreplay.debugger.launch import ReplayOptions, record_command, replay_cassette
from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer
from agentreplay.errors import UsageError
from agentreplay.llm.encode import ModelRequest, Reply, ToolCallSpec

__all__ = ["agent_path", "run_demo", "support_responder"]

QUESTIONS = [
    "Where is my order?",
    "Has my espresso machine shipped yet?",
    "I ordered last week and heard nothing. Can you check?",
    "Can you tell me the status of my order, please?",
]


_REPO_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_agent.py"
_PACKAGED = Path(__file__).parents[1] / "demo" / "support_agent.py"


def agent_path() -> Path:
    """The example agent: the repository's examples/, or the copy shipped in the package."""
    return _REPO_EXAMPLE if _REPO_EXAMPLE.is_file() else _PACKAGED


def _agent_to_run(workdir: Path) -> Path:
    """The agent's file as the demo runs it. The packaged copy sits inside agentreplay,
    whose own code is never recorded, so it is copied out first, next to the cassettes."""
    source = agent_path()
    if source == _REPO_EXAMPLE:
        return source
    target = workdir / source.name
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _enum(tool: dict[str, Any], name: str) -> list[Any]:
    function = tool.get("function", tool)
    prop = function.get("parameters", {}).get("properties", {}).get(name, {})
    return list(prop.get("enum", []))


def support_responder(seed: int | None = None) -> Any:
    """A model that looks up an order it picks at random, then answers from the result."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def respond(request: ModelRequest) -> Reply:
        with lock:
            tools = [t for t in request.body.get("tools", []) if _enum(t, "order_id")]
            messages = request.body.get("messages", [])
            results = [m for m in messages if m.get("role") == "tool"]
            if tools and len(results) < 2 and (not results or rng.random() < 0.35):
                tool = rng.choice(tools)
                name = tool.get("function", tool)["name"]
                order = rng.choice(_enum(tool, "order_id"))
                return Reply(tool_calls=[ToolCallSpec(name, {"order_id": order})])
            found = json.loads(results[-1]["content"]) if results else {}
            status = found.get("status", "on its way")
            where = found.get("position")
            text = (
                f"Thanks for waiting! Order {found.get('order', '')} is {status}"
                f"{f', last seen at {where}' if where else ''}. "
                f"Anything else I can help with?"
            )
            return Reply(text=text)

    return respond


_DEMO_RUN = re.compile(r"run-[0-9]+\.cassette")


def _outcome_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line and not line.startswith(" ") and "Error" in line]
    return errors[-1] if errors else (lines[-2] if len(lines) > 1 else "")


def run_demo(
    workdir: Path, *, seed: int | None = None, max_runs: int = 20, console: Console | None = None
) -> int:
    console = console or Console()
    if importlib.util.find_spec("openai") is None:
        console.print(
            "The demo's agent uses the openai SDK: install it with "
            "[bold]python -m pip install 'agentreplay[demo]'[/] (or pip install openai)."
        )
        return 2
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    for old in workdir.glob("run-*.cassette"):
        # Only the runs a demo recorded (--dir may be anybody's folder), not the what-ifs
        # and forks made from them (run-1.whatif1.cassette): those are the user's.
        if _DEMO_RUN.fullmatch(old.name):
            old.unlink()
    model = ModelServer(support_responder(seed), chunk_delay=0.02).start()
    tools = ToolServer().start()
    saved = {
        k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "SUPPORT_TOOLS_URL", "OPENAI_API_KEY")
    }
    os.environ.update(
        OPENAI_BASE_URL=f"{model.url}/v1",
        SUPPORT_TOOLS_URL=tools.url,
        OPENAI_API_KEY="sk-demo-not-a-real-key",
    )
    console.print(
        "[bold]1. Local servers[/]: a model that answers at random at "
        f"{model.url}, and a tool server at {tools.url}. No network, no API key."
    )
    agent = _agent_to_run(workdir)
    console.print(f"[bold]2. Running {_short(agent)}[/] until a run fails, recording every run:")
    failed: Path | None = None
    try:
        for number in range(1, max_runs + 1):
            cassette = workdir / f"run-{number}.cassette"
            question = rng.choice(QUESTIONS)
            report = record_command(
                [sys.executable, str(agent), question],
                cassette,
                keep_env=["OPENAI_BASE_URL", "SUPPORT_TOOLS_URL"],
                capture=True,
            )
            if report.exit_code == 0:
                console.print(f"   run {number}: answered  ({question!r})")
                continue
            console.print(
                f"   run {number}: [red]failed[/] ({question!r}): {_outcome_line(report.output)}"
            )
            failed = cassette
            break
    finally:
        model.stop()
        tools.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    if failed is None:
        console.print(f"No run failed in {max_runs} tries; run the demo again.")
        return 1
    _show(failed, console)
    console.print("[bold]4. Both servers are stopped.[/] Replaying the failing run, twice:")
    verdicts = []
    for attempt in (1, 2):
        report = replay_cassette(
            failed, ReplayOptions(), capture=True, confirm=lambda launch: True
        )  # it recorded the cassette just now
        verdict = (
            report.verdict.summary
            if report.verdict is not None
            else f"no result (exit {report.exit_code})"
        )
        verdicts.append(report.verdict is not None and report.verdict.reproduced)
        console.print(f"   replay {attempt}: {verdict}")
    _next_steps(failed, console)
    return 0 if all(verdicts) else 1


def _show(cassette: Path, console: Console) -> None:
    import argparse

    from agentreplay.cli.show import run as show

    console.print(f"[bold]3. The failing run was recorded[/] in {_short(cassette)}:")
    show(argparse.Namespace(file=str(cassette), step=None, json=False, events=False, limit=50))


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _next_steps(cassette: Path, console: Console) -> None:
    from agentreplay.cassette.reader import open_reader

    with open_reader(cassette) as opened:
        last = max(1, len(opened.step_infos()))
    name = _short(cassette)
    console.print("[bold]5. Next, try:[/]")
    for command, what in [
        (f"agentreplay show {name} --step 1", "the first model call in full"),
        (
            f"agentreplay replay {name} --break-at {last}",
            f"stop in pdb at the agent's line that issues step {last}",
        ),
        (
            f"agentreplay replay {name} --override 1='\"All good, nothing to look up.\"'",
            "what if the model had answered differently at step 1?",
        ),
        (f"agentreplay export {name} --format otlp", "the run as OpenTelemetry spans"),
    ]:
        console.print(f"   {command}", soft_wrap=True, markup=False, highlight=False)
        console.print(f"      [dim]{what}[/]")


def serve(
    workdir: Path,
    model_port: int,
    tools_port: int,
    *,
    seed: int | None = None,
    console: Console | None = None,
) -> int:
    """Run the demo's two servers until interrupted, to try the example agent by hand."""
    console = console or Console()
    try:
        model = ModelServer(support_responder(seed), chunk_delay=0.02, port=model_port).start()
        try:
            tools = ToolServer(tools_port).start()
        except BaseException:
            model.stop()
            raise
    except OSError as exc:
        raise UsageError(
            f"cannot start the demo's servers on ports {model_port} and {tools_port}: "
            f"{exc.strerror or exc}; choose others with --ports MODEL,TOOLS (0 picks free ones)"
        ) from None
    agent = _short(_agent_to_run(workdir))
    console.print(
        f"A model that answers at random at {model.url}, and a tool server at {tools.url}.\n"
        "In another terminal:\n",
        soft_wrap=True,
    )
    console.print(
        f"   export OPENAI_BASE_URL={model.url}/v1 SUPPORT_TOOLS_URL={tools.url} "
        f"OPENAI_API_KEY=sk-demo-not-a-real-key\n"
        f"   agentreplay record -o run.cassette --env OPENAI_BASE_URL --env SUPPORT_TOOLS_URL "
        f'-- python {agent} "Where is my order A-1001?"\n'
        f"   agentreplay replay run.cassette\n",
        soft_wrap=True,
        highlight=False,
    )
    console.print("Ctrl-C stops both servers.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        model.stop()
        tools.stop()
    return 0
