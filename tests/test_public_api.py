from __future__ import annotations

import subprocess
import sys
import types

import agentreplay

PUBLIC = {
    "AgentReplayError",
    "Cassette",
    "CassetteError",
    "CassetteWarning",
    "DivergenceError",
    "Mode",
    "Recording",
    "RecordingError",
    "Redaction",
    "Replay",
    "ReplayResult",
    "UsageError",
    "__version__",
    "capture",
    "diff",
    "entrypoint",
    "open",
    "record",
    "replay",
    "step",
    "tool",
}
"""The names promised to users (the public surface in the design notes)."""

_MACHINERY = {"annotations", "importlib", "TYPE_CHECKING", "Any"}


def test_all_is_sorted_and_is_the_promised_surface() -> None:
    assert agentreplay.__all__ == sorted(agentreplay.__all__)
    assert set(agentreplay.__all__) == PUBLIC


def test_all_lists_exactly_the_names_the_package_offers() -> None:
    """What ``from agentreplay import X`` can give (names bound now, and the lazy ones)
    is what ``__all__`` says, so a name dropped from either side is noticed."""
    bound = {
        name
        for name, value in vars(agentreplay).items()
        if not name.startswith("_")
        and name not in _MACHINERY
        and not isinstance(value, types.ModuleType)
    }
    offered = bound | set(agentreplay._LAZY) | {"__version__"}
    assert offered == set(agentreplay.__all__)
    for name in agentreplay.__all__:
        namespace: dict[str, object] = {}
        exec(f"from agentreplay import {name}", namespace)
        assert namespace[name] is not None


def test_import_loads_no_sdk_tui_or_numpy() -> None:
    code = (
        "import sys, agentreplay\n"
        "agentreplay.open\n"
        "agentreplay.diff\n"
        "heavy = {'textual', 'openai', 'anthropic', 'numpy', 'httpx2', 'aiohttp'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_and_help_work() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agentreplay", "--help"], capture_output=True, text=True, check=True
    )
    assert "usage: agentreplay" in out.stdout


def test_public_names_stay_callable_after_every_submodule_is_imported() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(agentreplay.__path__, "agentreplay."):
        if info.name.endswith(("__main__", "bootstrap", "pytest_plugin")):
            continue
        importlib.import_module(info.name)
    for name in ("record", "replay", "entrypoint", "tool", "step", "open", "diff"):
        assert callable(getattr(agentreplay, name)), name


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    """No import cycle depends on which module a program happens to import first."""
    import pkgutil
    from concurrent.futures import ThreadPoolExecutor

    names = [
        info.name
        for info in pkgutil.walk_packages(agentreplay.__path__, "agentreplay.")
        if not info.name.endswith(("__main__", "bootstrap"))
    ]

    def import_alone(name: str) -> tuple[str, str]:
        done = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False
        )
        return name, done.stderr.strip().splitlines()[-1] if done.returncode else ""

    with ThreadPoolExecutor(4) as pool:
        failures = [f"{name}: {error}" for name, error in pool.map(import_alone, names) if error]
    assert failures == []
