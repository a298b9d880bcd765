"""The package's layers: a layer imports only the layers below it, with no cycles.

    errors, jsondiff -> cassette/ -> runtime/ -> session/ -> intercept/ -> llm/, steps/
        -> debugger/, rundiff/, export, demo/ -> api, capture/ -> faces (cli/, tui/,
        pytest plugin, regression/)

Every import counts: at module level, inside functions, and under TYPE_CHECKING.
docs/architecture.md explains the layers.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import agentreplay

PACKAGE = Path(agentreplay.__file__).parent

LAYERS: dict[str, int] = {
    "errors": 0,
    "jsondiff": 0,
    "_version": 0,
    "cassette": 1,
    "runtime": 2,
    "session": 3,
    "intercept": 4,
    "llm": 5,
    "steps": 5,
    "debugger": 6,
    "rundiff": 6,
    "export": 6,
    "import_vcr": 6,
    "humanize": 6,
    "demo": 6,
    "api": 7,
    # A front door beside api: @entrypoint starts a captured run when capture is on.
    "capture": 7,
    "cli": 8,
    "tui": 8,
    "pytest_plugin": 8,
    "pytest_hooks": 8,
    "regression": 8,
    "__main__": 8,
    "__init__": 9,  # the package itself re-exports the public names, lazily
}

MODULE_LAYERS: dict[str, int] = {
    # The demo's agent is a user's program that happens to ship in the package.
    "agentreplay.demo.support_agent": 9,
}


def _layer(module: str) -> int:
    return MODULE_LAYERS.get(module, LAYERS[_unit(module)])


def _unit(module: str) -> str:
    """The layer unit of a dotted module name inside the package: its first part."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every agentreplay module ``path`` imports, with the line, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # ``from package import module`` imports the module
                module = f"{target}.{alias.name}"
                where = PACKAGE.parent / module.replace(".", "/")
                is_module = where.with_suffix(".py").exists() or where.is_dir()
                found.append((module if is_module else target, node.lineno))
    return [(t, line) for t, line in found if t == "agentreplay" or t.startswith("agentreplay.")]


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_unit_of_the_package_has_a_layer() -> None:
    units = {_unit(_module_name(path)) for path in _sources()}
    assert units <= set(LAYERS), f"give these a layer in LAYERS: {sorted(units - set(LAYERS))}"


def test_no_layer_imports_a_layer_above_it() -> None:
    wrong = []
    for path in _sources():
        source = _module_name(path)
        for target, line in _imports(path):
            if target == "agentreplay" and _layer(source) < LAYERS["cli"]:
                wrong.append(f"{source}:{line} imports the package root")
            elif target != "agentreplay" and _layer(target) > _layer(source):
                wrong.append(f"{source}:{line} imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_cycle_between_subpackages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _sources():
        source = _unit(_module_name(path))
        for target, _ in _imports(path):
            if _unit(target) != source and target != "agentreplay":
                graph[source].add(_unit(target))
    assert not _cycle(graph), f"import cycle between subpackages: {_cycle(graph)}"


def test_no_two_modules_import_each_other() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _sources():
        source = _module_name(path)
        for target, _ in _imports(path):
            if target != source:
                graph[source].add(target)
    assert not _cycle(graph), f"import cycle between modules: {_cycle(graph)}"


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle in ``graph``, as the list of its nodes, or [] if there is none."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """The helpers above see relative, function-level and TYPE_CHECKING imports."""
    probe = PACKAGE / "cassette" / "_layer_probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..session import core\n"
        "def f():\n    from agentreplay.cli import main\n",
        encoding="utf-8",
    )
    try:
        targets = {t for t, _ in _imports(probe)}
        assert targets == {"agentreplay.session.core", "agentreplay.cli"}
        assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
        assert _cycle({"a": {"b"}, "b": set()}) == []
    finally:
        probe.unlink()
