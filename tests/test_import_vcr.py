"""vcrpy cassettes, recorded by vcrpy itself, imported, shown and replayed."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import vcr
import yaml

import agentreplay
from agentreplay.cassette import HttpRequest, HttpResponse
from agentreplay.cli import main
from agentreplay.demo.model_server import ModelServer, echo_responder
from agentreplay.errors import CassetteError, UsageError
from agentreplay.import_vcr import import_vcr
from tests.llm.helpers import show_json
from tests.pytest_plugin.project import INI

pytest_plugins = ["pytester"]

LIVE = "HTTP only: the clock and random numbers ran live"
QUESTION: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Weather?"}],
}


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer(echo_responder) as running:
        yield running


def _chat(url: str) -> dict[str, Any]:
    """A chat completion asked with requests, then a streamed one with httpx: what a
    hand-written agent does, and what vcrpy records."""
    with requests.Session() as session:
        answer = session.post(
            f"{url}/v1/chat/completions",
            json=QUESTION,
            headers={"Authorization": "Bearer sk-live-secret"},
        ).json()
    pieces = []
    with (
        httpx.Client() as client,
        client.stream(
            "POST", f"{url}/v1/chat/completions", json={**QUESTION, "stream": True}
        ) as streamed,
    ):
        for line in streamed.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"][0]["delta"]
                pieces.append(delta.get("content") or "")
    return {"text": answer["choices"][0]["message"]["content"], "streamed": "".join(pieces)}


def _vcr_record(path: Path, agent: Callable[[], Any], serializer: str = "yaml") -> Any:
    with vcr.VCR(serializer=serializer).use_cassette(str(path), record_mode="all"):
        return agent()


def _replay(path: Path, agent: Callable[[], Any]) -> tuple[Any, agentreplay.Replay]:
    with agentreplay.replay(path) as run:
        result = agent()
    return result, run


@pytest.mark.parametrize("serializer", ["yaml", "json"])
def test_a_vcrpy_cassette_imports_shows_its_model_calls_and_replays(
    server: ModelServer, tmp_path: Path, serializer: str
) -> None:
    url = server.url
    source = tmp_path / f"chat.{serializer}"
    recorded = _vcr_record(source, lambda: _chat(url), serializer)
    server.stop()
    target = tmp_path / "chat.cassette"
    done = import_vcr(source, target)
    assert (done.interactions, done.serializer) == (2, serializer)
    shown = show_json(target)
    assert shown["header"]["recorded"] == ["http"]
    assert shown["header"]["imported"] == {
        "from": "vcrpy",
        "file": str(source),
        "serializer": serializer,
    }
    calls = [step["llm"] for step in shown["steps"]]
    assert [(c["model"], c["stream"], c["output_text"]) for c in calls] == [
        ("gpt-4o-mini", False, "echo: Weather?"),
        ("gpt-4o-mini", True, "echo: Weather?"),
    ]
    assert calls[0]["messages"] == QUESTION["messages"] and calls[0]["input_tokens"] > 0
    for _ in range(2):
        result, run = _replay(target, lambda: _chat(url))
        assert result == recorded
        assert run.result is not None and run.result.reproduced, run.result
        assert run.result.summary == (
            f"replayed the imported HTTP exchanges ({LIVE}); the run completed"
        )


def test_the_clock_and_random_numbers_run_live_on_replay(
    server: ModelServer, tmp_path: Path
) -> None:
    url = server.url

    def agent() -> tuple[float, str, str]:
        return time.time(), str(uuid.uuid4()), _chat(url)["text"]

    source = tmp_path / "chat.yaml"
    at, made, _ = _vcr_record(source, agent)
    import_vcr(source, tmp_path / "chat.cassette")
    server.stop()
    first, _ = _replay(tmp_path / "chat.cassette", agent)
    second, _ = _replay(tmp_path / "chat.cassette", agent)
    assert first[2] == second[2] == "echo: Weather?"
    assert at < first[0] < second[0] <= time.time()
    assert len({made, first[1], second[1]}) == 3


def test_exchanges_go_to_whichever_thread_asks_for_them_as_vcrpy_played_them(
    server: ModelServer, tmp_path: Path
) -> None:
    url = server.url

    def ask(word: str) -> str:
        body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": word}]}
        answer = requests.post(f"{url}/v1/chat/completions", json=body, timeout=10).json()
        return str(answer["choices"][0]["message"]["content"])

    def agent(words: list[str]) -> dict[str, str]:
        answers: dict[str, str] = {}
        threads = [threading.Thread(target=lambda w=w: answers.update({w: ask(w)})) for w in words]
        for thread in threads:
            thread.start()
            thread.join()  # one at a time, so vcrpy writes them in this order
        return answers

    source = tmp_path / "threads.yaml"
    _vcr_record(source, lambda: agent(["north", "south"]))
    import_vcr(source, tmp_path / "threads.cassette")
    server.stop()
    result, run = _replay(tmp_path / "threads.cassette", lambda: agent(["south", "north"]))
    assert result == {"south": "echo: south", "north": "echo: north"}
    assert run.result is not None and run.result.reproduced


def test_a_request_the_cassette_does_not_hold_still_diverges(
    server: ModelServer, tmp_path: Path
) -> None:
    url = server.url
    source = tmp_path / "chat.yaml"
    _vcr_record(source, lambda: _chat(url))
    import_vcr(source, tmp_path / "chat.cassette")
    server.stop()
    with pytest.raises(agentreplay.DivergenceError, match="does not match the recording"):
        with agentreplay.replay(tmp_path / "chat.cassette"):
            requests.post(f"{url}/v1/chat/completions", json={**QUESTION, "n": 2}, timeout=5)


def test_an_unused_exchange_means_not_reproduced(server: ModelServer, tmp_path: Path) -> None:
    url = server.url
    source = tmp_path / "chat.yaml"
    _vcr_record(source, lambda: _chat(url))
    import_vcr(source, tmp_path / "chat.cassette")
    server.stop()
    with agentreplay.replay(tmp_path / "chat.cassette") as run:
        requests.post(f"{url}/v1/chat/completions", json=QUESTION, timeout=5)
    assert run.result is not None and not run.result.reproduced
    assert "1 imported HTTP exchanges were never asked for" in run.result.summary


def test_keys_a_vcrpy_cassette_kept_are_not_carried_over(
    server: ModelServer, tmp_path: Path
) -> None:
    url = server.url
    source = tmp_path / "chat.yaml"
    _vcr_record(source, lambda: _chat(url))
    assert "sk-live-secret" in source.read_text()
    target = tmp_path / "chat.cassette"
    import_vcr(source, target)
    with agentreplay.open(target) as cassette:
        sent = [e for e in cassette.events() if isinstance(e, HttpRequest)]
    assert ("Authorization", "[REDACTED]") in sent[0].headers
    assert b"sk-live-secret" not in target.read_bytes()


def _cassette_yaml(response_headers: dict[str, list[str]], body: Any) -> dict[str, Any]:
    """A one-interaction cassette as vcrpy writes it, with a JSON response."""
    return {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.openai.com/v1/chat/completions",
                    "body": json.dumps(QUESTION),
                    "headers": {"Content-Type": ["application/json"]},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": response_headers,
                    "body": body,
                },
            }
        ],
    }


ANSWER = {
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sunny."}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2},
}


def test_a_gzipped_cassette_with_parsed_bodies_and_a_decoded_gzip_body_imports(
    tmp_path: Path,
) -> None:
    # pydantic-ai keeps JSON bodies as parsed_body and stores them decompressed, keeping
    # the content-encoding header; langchain gzips whole cassette files.
    data = _cassette_yaml({"Content-Encoding": ["gzip"], "Content-Length": ["5"]}, None)
    interaction = data["interactions"][0]
    interaction["request"]["parsed_body"] = interaction["request"].pop("body")
    interaction["request"]["parsed_body"] = QUESTION
    interaction["response"]["parsed_body"] = ANSWER
    del interaction["response"]["body"]
    source = tmp_path / "chat.yaml.gz"
    source.write_bytes(gzip.compress(yaml.safe_dump(data).encode()))
    target = tmp_path / "chat.cassette"
    import_vcr(source, target)
    with agentreplay.open(target) as cassette:
        [response] = [e for e in cassette.events() if isinstance(e, HttpResponse)]
        [step] = list(cassette.steps())
    body = json.dumps(ANSWER)
    assert dict(response.headers) == {"Content-Length": str(len(body))}
    assert step.llm is not None and step.llm.output_text == "Sunny."
    assert (step.llm.input_tokens, step.llm.messages) == (9, QUESTION["messages"])


def test_the_cli_converts_next_to_the_file_by_default(
    server: ModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.url
    source = tmp_path / "chat.yaml"
    _vcr_record(source, lambda: _chat(url))
    assert main(["import-vcr", str(source)]) == 0
    out = capsys.readouterr().out
    assert f"imported 2 HTTP exchanges from {source} into {tmp_path / 'chat.cassette'}" in out
    assert "HTTP only" in out
    assert main(["replay", str(tmp_path / "chat.cassette")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "imported from a vcrpy cassette" in error


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 2, "no such file"),
        (b"\xff\xfe not text", 3, "not UTF-8 text"),
        (b"interactions: [unclosed", 3, "not a vcrpy cassette"),
        (b"just a string", 3, "not a vcrpy cassette"),
        (b'{"interactions": [{"request": {"uri": "x"}}]}', 3, "not a vcrpy cassette"),
        (b"\x1f\x8b broken gzip", 3, "not a gzip file"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    code: int,
    message: str,
) -> None:
    source = tmp_path / "bad.yaml"
    if content is not None:
        source.write_bytes(content)
    assert main(["import-vcr", str(source), "-o", str(tmp_path / "out.cassette")]) == code
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error and "Traceback" not in error
    assert not (tmp_path / "out.cassette").exists()


def test_an_interaction_that_cannot_be_read_names_itself(tmp_path: Path) -> None:
    data = _cassette_yaml({}, {"string": "{}"})
    data["interactions"][0]["response"]["status"] = {"code": "OK"}
    source = tmp_path / "odd.yaml"
    source.write_text(yaml.safe_dump(data))
    with pytest.raises(CassetteError, match="interaction 1 cannot be read"):
        import_vcr(source, tmp_path / "odd.cassette")
    assert not list(tmp_path.glob("odd.cassette*"))


def test_an_unknown_serializer_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "chat.yaml"
    source.write_text(yaml.safe_dump(_cassette_yaml({}, {"string": "{}"})))
    with pytest.raises(UsageError, match="unknown serializer 'toml'"):
        import_vcr(source, tmp_path / "chat.cassette", serializer="toml")


PYTEST_RECORDING_TEST = """
import time

import pytest
import requests


@pytest.mark.agentreplay
def test_ask():
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    answer = requests.post("http://127.0.0.1:9/v1/chat/completions", json=body, timeout=5)
    assert answer.json()["choices"][0]["message"]["content"] == "hello"
    assert time.time() > 1.7e9  # the real clock
"""


def test_imported_pytest_recording_cassettes_replay_where_the_plugin_looks(
    pytester: pytest.Pytester,
) -> None:
    # pytest-recording keeps cassettes/<module>/<test>.yaml: the plugin's own layout.
    data = _cassette_yaml({"Content-Type": ["application/json"]}, None)
    request = data["interactions"][0]["request"]
    request["uri"] = "http://127.0.0.1:9/v1/chat/completions"
    request["body"] = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    answer = {**ANSWER, "choices": [{"index": 0, "message": {"content": "hello"}}]}
    data["interactions"][0]["response"]["body"] = {"string": json.dumps(answer)}
    folder = pytester.mkdir("cassettes") / "test_agent"
    folder.mkdir()
    (folder / "test_ask.yaml").write_text(yaml.safe_dump(data))
    assert main(["import-vcr", str(folder / "test_ask.yaml")]) == 0
    pytester.makepyfile(test_agent=PYTEST_RECORDING_TEST)
    pytester.makeini(INI)
    result = pytester.runpytest_subprocess("--agentreplay-mode=replay", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*replayed cassettes/test_agent/test_ask.cassette*{LIVE}*"])
