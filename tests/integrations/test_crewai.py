"""CrewAI: one agent with one HTTP tool, run in CrewAI's own virtual environment
(crewai_env.py), since CrewAI cannot share the test environment.

The example runs in subprocesses (crewai_run.py) against servers this test starts:
recorded with its model streamed, every server stopped, then replayed twice offline
in a fresh process. That process also replays the example's regression cassette
(cassettes/examples/, its model not streamed, recorded at tests/test_examples.py's
fixed ports): the test environment cannot import CrewAI to replay it there.
``--agentreplay-mode=rewrite`` records that cassette again.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer
from tests.integrations import crewai_env
from tests.integrations.conftest import SupportModel, model_steps, tool_steps

RUNNER = Path(__file__).with_name("crewai_run.py")
REGRESSION = crewai_env.ROOT / "cassettes" / "examples" / "crewai_agent.cassette"
MODEL_PORT, TOOLS_PORT = 18765, 18766  # tests/test_examples.py's: the cassette names them

# CrewAI's telemetry (OpenTelemetry spans to its collector) and its trace upload are
# off: the tests talk to 127.0.0.1 only. docs/integrations.md says what recording and
# replay do with them when they are on.
QUIET = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "OTEL_SDK_DISABLED": "true",
    "OPENAI_API_KEY": "sk-example",
}


@pytest.fixture(scope="session")
def crewai_python(request: pytest.FixtureRequest) -> Path:
    """The environment's interpreter, once its build (started by conftest.py) is done."""
    try:
        env = crewai_env.build(crewai_env.cache_dir(request.config))
    except crewai_env.EnvironmentUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    return crewai_env.python_of(env)


def _job(cassette: Path, model: str, tools: str, **options: Any) -> str:
    env = {"OPENAI_BASE_URL": f"{model}/v1", "SUPPORT_TOOLS_URL": tools}
    return json.dumps({"cassette": str(cassette), "env": env, **options})


def _run(python: Path, mode: str, *jobs: str) -> Any:
    done = subprocess.run(
        [python, RUNNER, mode, *jobs],
        capture_output=True,
        text=True,
        env={**crewai_env.run_environment(), **QUIET},
        cwd=crewai_env.ROOT,
        timeout=300,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, f"{mode} failed:\n{done.stdout}\n{done.stderr}"
    answer = json.loads(lines[-1])
    assert "error" not in answer, f"the replay did not reproduce: {answer['error']}"
    return answer


def _record(python: Path, cassette: Path, *, stream: bool, ports: tuple[int, int]) -> Any:
    """Record the example against fresh servers, and stop them; the run, and the job
    that replays it (with the same URLs, which nothing answers any more)."""
    script = SupportModel()
    model = ModelServer(script, port=ports[0], chunk_delay=0.005).start()
    tools = ToolServer(port=ports[1]).start()
    try:
        job = _job(cassette, model.url, tools.url, stream=stream, times=2)
        recorded = _run(python, "record", job)["run"]
    finally:
        model.stop()
        tools.stop()
    assert len(script.requests) == 2
    return recorded, job


def test_a_crewai_agent_replays_every_model_call_and_tool_result_in_its_own_environment(
    crewai_python: Path, cassette: Path, request: pytest.FixtureRequest
) -> None:
    if request.config.getoption("agentreplay_mode") == "rewrite" or not REGRESSION.exists():
        REGRESSION.unlink(missing_ok=True)
        _record(crewai_python, REGRESSION, stream=False, ports=(MODEL_PORT, TOOLS_PORT))
    recorded, job = _record(crewai_python, cassette, stream=True, ports=(0, 0))
    assert recorded["answer"] == "Order A-1001 is shipped."
    assert "espresso machine" in json.dumps(recorded["messages"])

    local = "http://127.0.0.1"
    regression = _job(REGRESSION, f"{local}:{MODEL_PORT}", f"{local}:{TOOLS_PORT}")
    replays, (replayed,) = _run(crewai_python, "replay", job, regression)["replays"]

    assert replays == [recorded, recorded]
    first, second = model_steps(cassette, stream=True, calls=2)
    assert first.llm is not None and first.llm.tool_calls[0].name == "lookup_order"
    assert second.llm is not None and "espresso machine" in json.dumps(second.llm.messages)
    assert len(tool_steps(cassette)) == 1

    assert replayed["answer"] == "Order A-1001 is shipped."
    model_steps(REGRESSION, stream=False, calls=2)
    assert len(tool_steps(REGRESSION)) == 1
