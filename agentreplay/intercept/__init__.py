"""Interceptors: the thin hooks that see a run's non-deterministic inputs.

One module per thing hooked. Each interceptor is installed when the first
session starts and removed when the last one stops; nothing is patched at
import time. Hooks for an HTTP library are installed when that library is
imported, so starting a session never imports a client the agent does not use.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Protocol

__all__ = ["Interceptor", "activate", "deactivate"]


class Interceptor(Protocol):
    """Installs its hooks, and removes them leaving everything as it was."""

    def install(self) -> None: ...

    def uninstall(self) -> None: ...


def _make_http(module: str) -> Interceptor:
    if module in ("httpx", "httpx2"):
        from agentreplay.intercept.httpx import HttpxInterceptor

        return HttpxInterceptor(module)
    if module == "urllib3":
        from agentreplay.intercept.requests import Urllib3Interceptor

        return Urllib3Interceptor()
    from agentreplay.intercept.aiohttp import AiohttpInterceptor

    return AiohttpInterceptor()


_HTTP_MODULES = ("httpx", "httpx2", "urllib3", "aiohttp")

_lock = threading.RLock()
_active = 0
_installed: dict[str, Interceptor] = {}


def _install(name: str, factory: Callable[[], Interceptor]) -> None:
    if name not in _installed:
        interceptor = factory()
        interceptor.install()
        _installed[name] = interceptor


def _always() -> list[tuple[str, Callable[[], Interceptor]]]:
    from agentreplay.intercept.clock import ClockInterceptor
    from agentreplay.intercept.entropy import EntropyInterceptor
    from agentreplay.intercept.imports import ImportTracker
    from agentreplay.intercept.network import NetworkGuard
    from agentreplay.intercept.vtime import VirtualTimeInterceptor

    return [
        ("clock", ClockInterceptor),
        ("entropy", EntropyInterceptor),
        ("vtime", VirtualTimeInterceptor),
        ("network", NetworkGuard),
        ("imports", ImportTracker),
    ]


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Installs an HTTP library's hooks right after the agent imports it."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _HTTP_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader, fullname)
                return spec
            if spec is not None:
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader, name: str) -> None:
        self._inner = inner
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        with _lock:
            if _active:
                _install(self._name, lambda: _make_http(self._name))

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


_watcher = _ImportWatcher()


def activate() -> None:
    """Called by each session as it starts."""
    global _active
    with _lock:
        _active += 1
        if _active > 1:
            return
        for name, factory in _always():
            _install(name, factory)
        for module in _HTTP_MODULES:
            if module in sys.modules:
                _install(module, lambda module=module: _make_http(module))  # type: ignore[misc]
        sys.meta_path.insert(0, _watcher)


def deactivate() -> None:
    """Called by each session as it stops; the last one removes every hook."""
    global _active
    with _lock:
        _active -= 1
        if _active > 0:
            return
        if _watcher in sys.meta_path:
            sys.meta_path.remove(_watcher)
        for interceptor in reversed(list(_installed.values())):
            interceptor.uninstall()
        _installed.clear()
