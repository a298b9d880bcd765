"""The wheel ``pip install .`` builds holds every file the package reads, not only its
Python modules (an editable install, as the tests run, would hide a missing one)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_file_of_the_package(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "agentreplay", source / "agentreplay", ignore=shutil.ignore_patterns("__pycache__")
    )
    # setuptools (the build backend) comes with the test extra: no build environment to fetch
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist")]
    built = subprocess.run(
        [sys.executable, "-m", "pip", *build, str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("agentreplay-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "agentreplay"
    wanted = {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert "agentreplay/tui/app.tcss" in wanted
    assert sorted(wanted - in_wheel) == []
