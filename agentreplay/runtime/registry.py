"""The interceptor registry: every hook, installed on first use, removed on last.

An interceptor is one object with ``install()`` and ``uninstall()``. The ones
that are always needed are named here by import path, so sessions install
them without importing `agentreplay.intercept` themselves. An HTTP library's
hooks are installed when the library is imported (by the agent, during the
run), so starting a session never imports a client the agent does not use.

Installation is all or nothing: if one interceptor fails to install, the
ones installed by that call are removed again before the error propagates.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Final, Protocol

__all__ = [
    "ALWAYS",
    "AUDIT",
    "HTTP",
    "Interceptor",
    "activate",
    "deactivate",
    "guard_network",
    "installed",
]


class Interceptor(Protocol):
    """Installs its hooks, and removes them leaving everything as it was."""

    def install(self) -> None: ...

    def uninstall(self) -> None: ...


ALWAYS: Final = (
    ("tasks", "agentreplay.intercept.tasks:TaskInterceptor"),
    ("queues", "agentreplay.intercept.queues:QueueInterceptor"),
    ("futures", "agentreplay.intercept.futures:FuturesInterceptor"),
    ("clock", "agentreplay.intercept.clock:ClockInterceptor"),
    ("entropy", "agentreplay.intercept.entropy:EntropyInterceptor"),
    ("frameworks", "agentreplay.intercept.frameworks:FrameworkStateInterceptor"),
    ("vtime", "agentreplay.intercept.vtime:VirtualTimeInterceptor"),
    ("network", "agentreplay.intercept.network:NetworkGuard"),
    ("imports", "agentreplay.intercept.imports:ImportTracker"),
)
"""Interceptors every session needs, in installation order."""

HTTP: Final = {
    "httpx": "agentreplay.intercept.httpx:HttpxInterceptor",
    "httpx2": "agentreplay.intercept.httpx:HttpxInterceptor",
    "urllib3": "agentreplay.intercept.requests:Urllib3Interceptor",
    "aiohttp": "agentreplay.intercept.aiohttp:AiohttpInterceptor",
    "mcp": "agentreplay.intercept.mcp:McpInterceptor",
    "http.client": "agentreplay.intercept.http_client:HttpClientWatch",
}
"""HTTP libraries (and the MCP client SDK) and their interceptors, installed once the
library is imported. ``http.client`` (under ``urllib.request``) is not recorded: its
watch only warns, while recording, that a replay will refuse its connections."""


AUDIT: Final = "agentreplay.intercept.network:add_audit_hook"
"""Adds the network guard's audit hook. It can never be removed, so only a replay adds it:
recordings (production capture among them) never pay for it."""


def guard_network() -> None:
    """Called by a replay as it starts: the process gets the network guard's audit hook
    (once; `NetworkGuard` turns it on and off with the other interceptors)."""
    module_name, _, function = AUDIT.partition(":")
    getattr(importlib.import_module(module_name), function)()


def _make(name: str, path: str) -> Interceptor:
    module_name, _, class_name = path.partition(":")
    factory = getattr(importlib.import_module(module_name), class_name)
    interceptor: Interceptor = factory(name) if name in HTTP else factory()
    return interceptor


_lock = threading.RLock()
_active = 0
_installed: dict[str, Interceptor] = {}


def installed() -> list[str]:
    """The names of the interceptors installed now, in installation order."""
    with _lock:
        return list(_installed)


def _install(name: str, path: str) -> None:
    if name not in _installed:
        interceptor = _make(name, path)
        interceptor.install()
        _installed[name] = interceptor


def _uninstall_all() -> None:
    """Remove every hook, the last installed first; every one is tried."""
    error: BaseException | None = None
    for name in reversed(list(_installed)):
        try:
            _installed.pop(name).uninstall()
        except BaseException as exc:  # the others must still come off
            error = error or exc
    if error is not None:
        raise error


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Installs an HTTP library's hooks right after the agent imports it."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in HTTP:
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
                _install(self._name, HTTP[self._name])

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


_watcher = _ImportWatcher()


def activate() -> None:
    """Called by each session as it starts: the first one installs every hook."""
    global _active
    with _lock:
        if _active:
            _active += 1
            return
        try:
            for name, path in ALWAYS:
                _install(name, path)
            for module, path in HTTP.items():
                if module in sys.modules:
                    _install(module, path)
            sys.meta_path.insert(0, _watcher)
        except BaseException:
            _uninstall_all()
            raise
        _active = 1


def deactivate() -> None:
    """Called by each session as it stops; the last one removes every hook."""
    global _active
    with _lock:
        if _active <= 0:
            return
        _active -= 1
        if _active:
            return
        if _watcher in sys.meta_path:
            sys.meta_path.remove(_watcher)
        _uninstall_all()
