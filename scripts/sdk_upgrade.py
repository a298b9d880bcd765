"""Does a cassette recorded with one openai SDK replay with another?

Makes two virtual environments, one per released openai version, each with
this checkout of agentreplay installed, and in each records the same agent
(chat completions and responses, streamed and not, with a tool call) against
the local model server. Then every cassette is replayed with the other
version, and once more with a request that really changed (another
temperature), which must diverge naming the field. It prints what differed
between the two versions' requests and how each replay ended; the exit code
is 0 when every cross replay reproduced and the changed one diverged.

    python scripts/sdk_upgrade.py                          # openai 2.54.0 and 3.57.0
    python scripts/sdk_upgrade.py --old 3.0.0 --new 3.57.0 --workdir /tmp/sdk

Needs the package index (pip installs each version once; the environments
are kept in --workdir and reused). Not a CI test: it installs packages.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PORT = 18790  # fixed: the recorded URLs name it, and a replay asks for the same


# -- the agent, run inside each environment -----------------------------------------


def _agent(url: str, temperature: float) -> dict[str, Any]:
    import openai

    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    messages: Any = [{"role": "user", "content": "Weather in Paris?"}]
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-upgrade", max_retries=0)
    with client:
        plain = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=tools, temperature=temperature
        )
        pieces = []
        for chunk in client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            temperature=temperature,
            stream=True,
            stream_options={"include_usage": True},
        ):
            pieces += [c.delta.content or "" for c in chunk.choices]
        response = client.responses.create(
            model="gpt-4o-mini", input="Weather in Paris?", temperature=temperature
        )
        events = [
            event.type
            for event in client.responses.create(
                model="gpt-4o-mini", input="Weather in Paris?", stream=True
            )
        ]
    call = plain.choices[0].message.tool_calls[0]  # type: ignore[index]
    return {
        "tool_call": [call.function.name, json.loads(call.function.arguments)],  # type: ignore[union-attr]
        "streamed": "".join(pieces),
        "responses": response.output_text,
        "events": events[-1],
    }


def _child(mode: str, cassette: str, temperature: float) -> None:
    import agentreplay
    from agentreplay.demo.model_server import ModelServer, Reply, ToolCallSpec

    url = f"http://127.0.0.1:{PORT}"
    report: dict[str, Any] = {"openai": __import__("openai").__version__}
    if mode == "record":
        reply = Reply(
            text="Sunny in Paris.", tool_calls=[ToolCallSpec("get_weather", {"city": "Paris"})]
        )
        with ModelServer(lambda request: reply, port=PORT), agentreplay.record(cassette):
            report["result"] = _agent(url, temperature)
    else:
        try:
            with agentreplay.replay(cassette) as run:
                report["result"] = _agent(url, temperature)
        except agentreplay.DivergenceError as exc:
            report["divergence"] = str(exc)
        else:
            assert run.result is not None
            report.update(reproduced=run.result.reproduced, summary=run.result.summary)
    print(json.dumps(report))


# -- the driver, run by you --------------------------------------------------------


def _venv(workdir: Path, version: str) -> Path:
    python = workdir / f"openai-{version}" / "bin" / "python"
    if not python.exists():
        print(f"making an environment with openai {version} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(python.parents[1])], check=True)
        install = [str(python), "-m", "pip", "install", "-q", f"openai=={version}", "-e", str(REPO)]
        subprocess.run(install, check=True)
    return python


def _run(python: Path, mode: str, cassette: Path, temperature: float = 0.2) -> dict[str, Any]:
    command = [str(python), __file__, "--child", mode, str(cassette), str(temperature)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"{mode} with {python} failed:\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _requests(cassette: Path) -> list[Any]:
    import agentreplay
    from agentreplay.cassette import HttpRequest

    with agentreplay.open(cassette) as opened:
        return [e for e in opened.events() if isinstance(e, HttpRequest)]


def _differences(old: Path, new: Path) -> tuple[set[str], list[str]]:
    """Header names whose values differ, and the JSON body differences, request by request."""
    from agentreplay.session.matching import json_diff

    headers: set[str] = set()
    bodies: list[str] = []
    for number, (a, b) in enumerate(zip(_requests(old), _requests(new), strict=True), 1):
        first = {k.lower(): v for k, v in a.headers}
        second = {k.lower(): v for k, v in b.headers}
        headers |= {k for k in first.keys() | second.keys() if first.get(k) != second.get(k)}
        lines = json_diff(json.loads(a.body), json.loads(b.body))
        bodies += [f"request {number}: {line}" for line in lines]
    return headers, bodies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="2.54.0", help="the openai version that records first")
    parser.add_argument("--new", default="3.57.0", help="the later openai version")
    parser.add_argument("--workdir", type=Path, help="where the environments are kept")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.gettempdir()) / "agentreplay-sdk-upgrade"
    workdir.mkdir(parents=True, exist_ok=True)
    pythons = {args.old: _venv(workdir, args.old), args.new: _venv(workdir, args.new)}
    cassettes = {v: workdir / f"recorded-with-{v}.cassette" for v in pythons}
    results = {v: _run(pythons[v], "record", cassettes[v]) for v in pythons}
    assert results[args.old]["result"] == results[args.new]["result"], results
    headers, bodies = _differences(cassettes[args.old], cassettes[args.new])
    count = len(_requests(cassettes[args.old]))
    print(f"openai {args.old} and {args.new} each recorded {count} requests")
    print(f"  headers that differ: {', '.join(sorted(headers)) or 'none'}")
    print(f"  body differences: {'; '.join(bodies) or 'none'}")
    ok = True
    for recorded, replaying in ((args.old, args.new), (args.new, args.old)):
        report = _run(pythons[replaying], "replay", cassettes[recorded])
        same = report.get("result") == results[recorded]["result"]
        verdict = report.get("summary") or report.get("divergence", "").splitlines()[0]
        print(
            f"recorded with {recorded}, replayed with {replaying}: {verdict}; same answers: {same}"
        )
        ok = ok and bool(report.get("reproduced")) and same
    changed = _run(pythons[args.new], "replay", cassettes[args.old], temperature=0.9)
    divergence = changed.get("divergence", "")
    named = "$.temperature: 0.2 != 0.9" in divergence
    print(f"recorded with {args.old}, replayed with {args.new} at another temperature:")
    print("  " + "\n  ".join(divergence.splitlines()[:5]) if divergence else "  no divergence!")
    ok = ok and named
    print(
        "result: "
        + (
            "every cross replay reproduced; the real change diverged naming the field"
            if ok
            else "FAILED"
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        raise SystemExit(main())
