"""Every user mistake ends in one clear line and a non-zero exit code, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.debugger.conftest import EXAMPLE, agentreplay_cli


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREPLAY_")}
    return {**env, **extra}


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["replay", "x.cassette", "--break-at", "abc"],
            "agentreplay replay: error: argument --break-at: invalid int value: 'abc' "
            "(see agentreplay replay --help)",
        ),
        (
            ["replay", "x.cassette", "--override", "4"],
            "agentreplay replay: error: argument --override: expected N=FILE.json or N=JSON, "
            "not '4' (see agentreplay replay --help)",
        ),
        (
            ["replay", "x.cassette", "--override", "x=1"],
            "agentreplay replay: error: argument --override: expected N=FILE.json or N=JSON, "
            "not 'x=1' (see agentreplay replay --help)",
        ),
        (
            ["replay", "x.cassette", "--override", '4={"content": "oops'],
            "agentreplay replay: error: argument --override: 4=...: the JSON given is "
            "invalid: Unterminated string starting at (column 13) "
            "(see agentreplay replay --help)",
        ),
        (
            ["export", "x.cassette", "--format", "csv"],
            "agentreplay export: error: argument --format: invalid choice: 'csv' (choose "
            "from 'jsonl', 'otlp') (see agentreplay export --help)",
        ),
    ],
)
def test_argument_errors_are_one_line_without_the_usage_block(args: list[str], line: str) -> None:
    done = agentreplay_cli(*args, env=_env())
    assert done.returncode == 2
    assert done.stderr.splitlines() == [line]


def test_an_override_file_with_bad_json_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "answer.json"
    bad.write_text('{"content": "x",\n "tool_calls": [,]}\n')
    done = agentreplay_cli("replay", "x.cassette", "--override", f"4={bad}", env=_env())
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"agentreplay replay: error: argument --override: 4={bad}: the JSON in {bad} is "
        f"invalid: Expecting value at line 2 column 17 (see agentreplay replay --help)"
    ]


def test_record_into_a_directory_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "bad" / "dir.cassette").mkdir(parents=True)
    marker = tmp_path / "ran"
    done = agentreplay_cli(
        "record", "-o", "bad/dir.cassette", "--",
        sys.executable, "-c", f"open({str(marker)!r}, 'w')",
        cwd=tmp_path, env=_env(),
    )  # fmt: skip
    target = tmp_path / "bad" / "dir.cassette"
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"agentreplay: error: -o {target} is a directory; name a file, e.g. {target}/run.cassette"
    ]
    assert not marker.exists()


def test_record_refuses_an_existing_cassette_unless_forced(tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    first = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, "-c", "pass", env=_env()
    )
    assert first.returncode == 0, first.stderr
    before = cassette.read_bytes()
    again = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, "-c", "pass", env=_env()
    )
    assert again.returncode == 2
    assert again.stderr.splitlines() == [
        f"agentreplay: error: -o {cassette} already exists; pass --force to replace it"
    ]
    assert cassette.read_bytes() == before
    forced = agentreplay_cli(
        "record", "--force", "-o", str(cassette), "--", sys.executable, "-c", "pass", env=_env()
    )
    assert forced.returncode == 0, forced.stderr
    assert cassette.read_bytes() != before
    assert forced.stderr.splitlines()[0] == f"agentreplay: recorded {cassette} (exit code 0)"


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("{tmp}/file/x.cassette", "{tmp}/file is a file, not a folder"),
        ("{tmp}/file/deeper/x.cassette", "{tmp}/file is a file, not a folder"),
        ("/proc/x.cassette", "No such file or directory"),  # root cannot write there either
    ],
)
def test_record_where_the_cassette_cannot_be_written_is_refused_before_anything_runs(
    tmp_path: Path, output: str, reason: str
) -> None:
    (tmp_path / "file").write_text("")
    marker = tmp_path / "ran"
    target = output.format(tmp=tmp_path)
    done = agentreplay_cli(
        "record", "-o", target, "--",
        sys.executable, "-c", f"open({str(marker)!r}, 'w')",
        env=_env(),
    )  # fmt: skip
    assert done.stderr.splitlines() == [
        f"agentreplay: error: cannot write the cassette {target}: {reason.format(tmp=tmp_path)}"
    ]
    assert done.returncode == 2
    assert not marker.exists()


def test_record_never_claims_a_cassette_it_did_not_write(tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    broken = tmp_path / "python-broken"  # an interpreter that dies before any code runs
    broken.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 1\n")
    broken.chmod(0o755)
    done = agentreplay_cli("record", "-o", str(cassette), "--", str(broken), "-c", "", env=_env())
    assert not cassette.exists()
    assert "recorded" not in done.stderr.replace("nothing was recorded", "")
    assert "replay it with" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        f"agentreplay: error: nothing was recorded into {cassette}: the program ended"
    )
    assert done.returncode != 0


@pytest.mark.parametrize(
    ("env", "code", "line"),
    [
        (
            {"AGENTREPLAY_MODE": "rec"},
            2,
            "agentreplay: error: AGENTREPLAY_MODE: unknown mode 'rec'; expected one of: "
            "off, record, replay",
        ),
        (
            {"AGENTREPLAY_MODE": "replay", "AGENTREPLAY_CASSETTE": "runs/nope.cassette"},
            3,
            "agentreplay: error: AGENTREPLAY_MODE=replay: no cassette at runs/nope.cassette "
            "(AGENTREPLAY_CASSETTE names the cassette to replay)",
        ),
        (
            {"AGENTREPLAY_MODE": "replay"},
            2,
            "agentreplay: error: AGENTREPLAY_MODE=replay needs AGENTREPLAY_CASSETTE (or "
            "cassette=) to name the cassette to replay; it is not set",
        ),
        (
            {"AGENTREPLAY_MODE": "record", "AGENTREPLAY_CASSETTE": "."},
            2,
            "agentreplay: error: AGENTREPLAY_CASSETTE: . is a directory; name a file in it",
        ),
        (
            {"AGENTREPLAY_MODE": "record", "AGENTREPLAY_CASSETTE": "/proc/x.cassette"},
            2,
            "agentreplay: error: cannot write the cassette /proc/x.cassette: "
            "No such file or directory",
        ),
    ],
)
def test_environment_mistakes_in_an_entrypoint_program_are_one_line(
    env: dict[str, str], code: int, line: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "Where is my order?"],
        env=_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == code
    assert done.stderr.splitlines() == [line]


def test_promote_without_pytest_says_to_install_it(tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    cassette.write_bytes(b"")  # never read: the command stops before
    program = (
        "import sys\n"
        "sys.modules['pytest'] = None  # as if it were not installed\n"
        "from agentreplay.cli import main\n"
        f"sys.exit(main(['promote', {str(cassette)!r}, '--to', 'tests']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "agentreplay: error: promote writes a pytest test, and pytest is not installed: "
        "python -m pip install pytest"
    ]


def test_an_entrypoint_recording_over_a_cassette_says_so(tmp_path: Path) -> None:
    (tmp_path / "agent.py").write_text(
        "import agentreplay\n\n\n"
        "@agentreplay.entrypoint\n"
        "def main() -> str:\n"
        "    return 'done'\n\n\n"
        "main()\n"
    )
    env = _env(AGENTREPLAY_MODE="record", AGENTREPLAY_CASSETTE="run.cassette")
    lines = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "agent.py"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        lines.append(done.stderr.strip())
    assert lines[0] == "agentreplay: recorded run.cassette"
    assert lines[1] == (
        "agentreplay: recorded run.cassette (over the cassette that was there: {run_id} or "
        "{timestamp} in AGENTREPLAY_CASSETTE keeps each run)"
    )


def test_an_output_path_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    cassette = Path(__file__).parents[2] / "cassettes" / "examples" / "llamaindex_agent.cassette"
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for args in (
        ["export", str(cassette), "-o", str(tmp_path)],
        ["export", str(cassette), "--format", "otlp", "-o", str(tmp_path / "no" / "x.json")],
        ["promote", str(cassette), "--to", str(a_file)],
        ["demo", "--dir", str(a_file / "demo")],
    ):
        done = agentreplay_cli(*args, env=_env())
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("agentreplay: error: ") and str(tmp_path) in line, line


def test_a_rebuilt_index_is_a_warning_line_from_check_too(tmp_path: Path) -> None:
    import struct
    import time

    import agentreplay

    path = tmp_path / "corpus" / "run.cassette"
    with agentreplay.record(path):
        time.time()
    data = bytearray(path.read_bytes())
    data[struct.unpack("<Q", data[-8:])[0] + 20] ^= 0xFF  # inside the index
    path.write_bytes(bytes(data))
    done = agentreplay_cli("check", str(tmp_path / "corpus"), env=_env())
    assert "1 skipped" in done.stdout + done.stderr
    warned = [line for line in done.stderr.splitlines() if "index checksum" in line]
    assert warned and warned[0].startswith("agentreplay: warning: "), done.stderr
    assert "CassetteWarning" not in done.stderr and "runner.py" not in done.stderr
