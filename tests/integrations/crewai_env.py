"""A virtual environment of its own for CrewAI, which cannot share the test environment
(it pins ``openai<3`` and ``mcp<2``).

It holds CrewAI and this package (editable, without the ``test`` extra) and nothing
else. It is built with uv, once per set of requirements, under pytest's cache
directory: in a temporary directory first, renamed into place when complete, under a
file lock, so neither two test workers nor an interrupted run leave half an
environment. `start_building` starts the build in the background as the test session
starts, so it overlaps the other tests; `crewai_python` waits for it.

``python -m tests.integrations.crewai_env CACHE_DIR`` builds it in the foreground.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
CREWAI: Final = "crewai==1.15.30"
"""Pinned: the committed regression cassette holds this version's requests."""
_CACHE_KEY: Final = "agentreplay-crewai-env"


class EnvironmentUnavailable(Exception):
    """The CrewAI environment could not be built (no network, no uv): the test fails."""


def _key() -> str:
    """What the environment depends on: CrewAI's pin, this package's own requirements,
    the checkout it is installed from (editable) and the interpreter."""
    digest = hashlib.sha256()
    for part in (CREWAI, str(ROOT), sys.version, os.path.realpath(sys.executable)):
        digest.update(part.encode() + b"\0")
    digest.update((ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()[:16]


def env_dir(cache: Path) -> Path:
    return cache / f"crewai-{_key()}"


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def run_environment() -> dict[str, str]:
    """The variables to run the environment's interpreter with. It may write bytecode:
    the first process compiles the modules it imports and the next ones start from it
    (compiling all 147 packages as the environment is built takes 35 s more)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError as exc:  # the test extra installs it
        raise EnvironmentUnavailable(
            "uv is not installed: pip install -e '.[test]' installs it"
        ) from exc
    return str(find_uv_bin())


def build(cache: Path) -> Path:
    """The environment under ``cache``, built first if it is not there yet."""
    target = env_dir(cache)
    if python_of(target).exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building it: wait for it
        if python_of(target).exists():
            return target
        for stale in cache.glob(f"{target.name}.*.partial"):  # from a build that was killed
            shutil.rmtree(stale, ignore_errors=True)
        uv = _uv()
        partial = Path(tempfile.mkdtemp(prefix=f"{target.name}.", suffix=".partial", dir=cache))
        try:
            # Relocatable: built at a temporary path, then renamed into place.
            _run([uv, "venv", "--quiet", "--relocatable", "--python", sys.executable, partial])
            _run(
                [
                    uv, "pip", "install", "--quiet",
                    "--python", python_of(partial), CREWAI, "--editable", ROOT,
                ]
            )  # fmt: skip
            os.rename(partial, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        for old in cache.glob("crewai-*"):  # built for other requirements: 860 MB each
            if old.is_dir() and old != target and not old.name.endswith(".partial"):
                shutil.rmtree(old, ignore_errors=True)
    return target


def _run(command: list[str | Path]) -> None:
    env = {**os.environ, "VIRTUAL_ENV": ""}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        words = " ".join(str(part) for part in command[:3])
        raise EnvironmentUnavailable(
            f"building CrewAI's environment failed ({words} ... exited {done.returncode}): "
            f"it installs {CREWAI} from PyPI, which must be reachable\n{done.stderr[-3000:]}"
        )


def start_building(cache: Path) -> subprocess.Popen[bytes] | None:
    """Build the environment in a background process, unless it is there already. Its
    output is not kept: if it fails, `build` tries again and says why."""
    if python_of(env_dir(cache)).exists():
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integrations.crewai_env", str(cache)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def cache_dir(config: pytest.Config) -> Path:
    """Where the environments live: under pytest's cache directory (``.pytest_cache``)."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir(_CACHE_KEY))
    return config.rootpath / ".pytest_cache" / "d" / _CACHE_KEY


if __name__ == "__main__":
    try:
        print(build(Path(sys.argv[1])))
    except EnvironmentUnavailable as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
