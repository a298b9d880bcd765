"""Whose code is it: the agent's, a library's, or the standard library's."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from agentreplay.runtime.callers import Origin, agent_call_site, classify


def test_agent_library_and_machinery_code_are_told_apart() -> None:
    assert classify(__file__) is Origin.AGENT
    assert classify(httpx.__file__) is Origin.LIBRARY
    assert classify(subprocess.__file__) is Origin.MACHINERY  # its reads are never the run's
    assert classify(textwrap.__file__) is Origin.PASSTHROUGH
    site = agent_call_site()
    assert site is not None and site.filename == __file__


def test_packages_of_every_site_directory_are_libraries(tmp_path: Path) -> None:
    # A venv made with --system-site-packages, or `pip install --user`, imports
    # packages from a site directory that is not this environment's own.
    other_site = tmp_path / "lib" / "site-packages"
    other_site.mkdir(parents=True)
    (other_site / "vendor_sdk.py").write_text("VALUE = 1\n")
    agent = tmp_path / "agent.py"
    agent.write_text("VALUE = 2\n")
    code = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(other_site)!r}, {str(tmp_path)!r}]
        from agentreplay.runtime.callers import classify
        import agent, vendor_sdk
        print(classify(vendor_sdk.__file__).name, classify(agent.__file__).name)
        """
    )
    # sys.path is read when agentreplay is imported, so the directory goes in first
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["LIBRARY", "AGENT"]
