"""An @entrypoint script recorded under one string hash seed replays under it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.servers import ToolServer

AGENT = textwrap.dedent(
    """
    import os, sys
    import httpx
    import agentreplay

    TOOLS = {"search", "weather", "calendar", "email", "notes", "maps", "files", "news"}

    @agentreplay.entrypoint
    def main(url):
        return httpx.post(url + "/echo", json={"prompt": ", ".join(TOOLS)}).json()["body"]

    if __name__ == "__main__":
        print(main(sys.argv[1]))
    """
)


def _run(script: Path, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    gone = ("PYTHONHASHSEED", "PYTEST_CURRENT_TEST")  # as in a terminal
    clean = {k: v for k, v in os.environ.items() if k not in gone}
    return subprocess.run(
        [sys.executable, str(script), url],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_replay_starts_again_under_the_recorded_hash_seed(
    server: ToolServer, tmp_path: Path
) -> None:
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    cassette = str(tmp_path / "run.cassette")
    recorded = _run(
        script,
        server.url,
        AGENTREPLAY_MODE="record",
        AGENTREPLAY_CASSETTE=cassette,
        PYTHONHASHSEED="12345",
    )
    assert recorded.returncode == 0, recorded.stderr
    server.stop()
    for seed in ("1", "2"):  # a terminal with another seed: replay restarts under 12345
        replayed = _run(
            script,
            server.url,
            AGENTREPLAY_MODE="replay",
            AGENTREPLAY_CASSETTE=cassette,
            PYTHONHASHSEED=seed,
        )
        assert "starting again with PYTHONHASHSEED=12345, as recorded" in replayed.stderr
        assert replayed.stdout == recorded.stdout, replayed.stderr
        assert "agentreplay: reproduced" in replayed.stderr


CONFIGURED = textwrap.dedent(
    """
    import os, sys
    import httpx
    import agentreplay

    TOOLS_URL = os.environ["TOOLS_URL"]  # configuration read as the script loads

    @agentreplay.entrypoint
    def main():
        return httpx.get(TOOLS_URL + "/tool/1").json()["answer"]

    if __name__ == "__main__":
        print(main())
    """
)


def test_a_replay_sets_the_kept_environment_before_the_script_reads_it(
    server: ToolServer, tmp_path: Path
) -> None:
    script = tmp_path / "agent.py"
    script.write_text(CONFIGURED)
    cassette = str(tmp_path / "run.cassette")
    recorded = _run(
        script,
        "",
        AGENTREPLAY_MODE="record",
        AGENTREPLAY_CASSETTE=cassette,
        AGENTREPLAY_ENV="TOOLS_URL",
        TOOLS_URL=server.url,
    )
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout == "result-1\n"
    server.stop()
    # Another machine: TOOLS_URL is not set there, and the script reads it as it loads.
    replayed = _run(script, "", AGENTREPLAY_MODE="replay", AGENTREPLAY_CASSETTE=cassette)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == recorded.stdout
    assert "agentreplay: reproduced" in replayed.stderr
    assert replayed.stderr.count("starting again") <= 1
