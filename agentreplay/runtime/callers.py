"""Who is calling: agent code, a library we record through, or machinery.

Clock and entropy hooks see every read in the process: asyncio reads the
monotonic clock dozens of times per HTTP call, differently on record and on
replay. So each read is attributed to the code that made it, and only reads
made on behalf of the agent are recorded.

Every source file falls in one of four classes:

- ``MACHINERY``: the event loop, threads, sockets, TLS, logging, HTTP
  connection pools, test runners and agentreplay itself. Their reads are
  never recorded: they run differently on replay, where no socket is opened.
- ``PASSTHROUGH``: the rest of the standard library (``uuid``, ``random``,
  ``secrets``, ``email``...) and the retry libraries (tenacity, backoff). They
  read on behalf of whoever called them, so the decision is made by looking one
  frame further out.
- ``LIBRARY``: other installed packages (the model SDKs, httpx above its
  transport). They run the same on record and replay, so their wall-clock
  and entropy reads are recorded; their monotonic reads are not.
- ``AGENT``: everything else, the user's own code. All its reads are recorded.
"""

from __future__ import annotations

import linecache
import os
import site
import sys
import sysconfig
import threading
from enum import IntEnum
from types import FrameType
from typing import Final

from agentreplay.errors import CallSite

__all__ = [
    "Origin",
    "agent_call_site",
    "agent_frame",
    "classify",
    "origin_of_caller",
    "unrecorded_sender",
]


class Origin(IntEnum):
    MACHINERY = 0
    PASSTHROUGH = 1
    LIBRARY = 2
    AGENT = 3


# The members, looked up once: fetching one from the class costs ~0.1 µs, and the
# hooks below run on every clock read and entropy draw.
_MACHINERY: Final = Origin.MACHINERY
_PASSTHROUGH: Final = Origin.PASSTHROUGH
_AGENT: Final = Origin.AGENT


_MACHINERY_MODULES: Final = frozenset(
    {
        "asyncio",
        "threading",
        "concurrent",
        "selectors",
        "socket",
        "ssl",
        "logging",
        "multiprocessing",
        "subprocess",
        "queue",
        "sched",
        "importlib",
        "zipimport",
        "tempfile",
        "socketserver",
        "http",
        "urllib",
        "unittest",
        "pdb",
        "bdb",
        "cProfile",
        "profile",
        "trace",
        "tracemalloc",
        "warnings",
        "traceback",
        "inspect",
        "signal",
        "runpy",
        "_pytest",
        "pytest",
        "pluggy",
        "_hypothesis_pytestplugin",
        "hypothesis",
        "xdist",
        "execnet",
        "pytest_asyncio",
        "httpcore",
        "httpcore2",
        "h11",
        "h2",
        "hpack",
        "hyperframe",
        "anyio",
        "sniffio",
        "urllib3",
        "aiohttp",
        "yarl",
        "multidict",
        "aiohappyeyeballs",
        "aiosignal",
        "frozenlist",
        "propcache",
        "certifi",
        "idna",
        "charset_normalizer",
        "rich",
        "textual",
        "pygments",
        "markdown_it",
        "time_machine",
        "freezegun",
        "coverage",
        "pexpect",
        "ptyprocess",
        "agentreplay",
        "msgpack",
        "zstandard",
        "typing_extensions",
        "pydantic",
        "pydantic_core",
        # A price table stamped with the time it is first loaded, in whichever run that is.
        "genai_prices",
        # LiteLLM reads the clock for its client cache's lifetimes, its logging and latency
        # figures, differently in each run of a process; what it sends goes through the
        # SDKs and HTTP clients below it, which are recorded.
        "litellm",
        # The MCP SDK's transports and dispatcher: its requests are recorded whole, as
        # tool steps (intercept/mcp.py), and a replayed stdio server never starts.
        "mcp",
        # Telemetry that frameworks send home (docs/integrations.md): not the agent's steps.
        "langsmith",
        "opentelemetry",
        "posthog",
        "logfire",
        "logfire_api",
    }
)
"""Top-level packages whose clock and entropy reads are never recorded."""

_RUN_DECIDING_MODULES: Final = frozenset({"tenacity", "backoff", "stamina", "retrying"})
"""Installed packages that read the clock for whoever calls them, as the standard library
does: retry libraries give up by the clock (tenacity's ``stop_after_delay``), so when the
agent's own code retries through them, their monotonic reads decide how many attempts the
run makes. On replay their waits take no time; unrecorded, their reads would say that no
time had passed, and they would retry on past the end of the recording. A library that
retries through them (LiteLLM, LangChain) keeps its reads unrecorded, as its own are."""

_MACHINERY_SUBMODULES: Final = (
    "httpx/_transports",
    "httpx2/_transports",
    "openai/_vendor/httpx_aiohttp",
    # The ids of pydantic-ai's graph nodes, drawn once per process when the graph is first
    # built (and cached), in whichever run that is: never the agent's input.
    "pydantic_graph/id_types",
    # The Agents SDK's trace and span ids: sent home with its traces, never to the model.
    "agents/tracing",
    # CrewAI's event bus: events (each with an id and a timestamp) handed to listeners in
    # a thread pool and an event loop thread that it starts on the first event of the
    # process, in whichever run that is. The listeners print, trace and send telemetry;
    # none of it goes to the model.
    "crewai/events",
)


def _prefixes(paths: set[str]) -> tuple[str, ...]:
    return tuple(sorted({os.path.realpath(p) + os.sep for p in paths if p}, key=len, reverse=True))


def _site_dirs() -> set[str]:
    """Every directory installed packages are imported from: this environment's, and
    those a venv made with ``--system-site-packages`` or ``pip install --user`` adds."""
    dirs = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    dirs.update(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.add(site.getusersitepackages())
    dirs.update(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages"))
    return dirs


_STDLIB: Final = _prefixes({sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")})
_SITE: Final = _prefixes(_site_dirs())
_OWN_DIR: Final = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

_cache: dict[str, Origin] = {}
importing = threading.local()
"""``importing.depth`` > 0 while this thread loads a module for the first time: what a
module does as it is imported happens once per process, not once per run, so it is
machinery (see `agentreplay.intercept.imports`)."""
extra_library_paths: list[str] = []
"""Extra path prefixes to treat as LIBRARY code (for vendored dependencies)."""


def _top_module(path: str, root: str) -> str:
    rel = path[len(root) :]
    head = rel.split(os.sep, 1)[0]
    return head[:-3] if head.endswith(".py") else head


def _classify_uncached(filename: str) -> Origin:
    if filename.startswith("<"):
        # <frozen importlib._bootstrap>, <string>, <stdin>: frozen modules are machinery,
        # code run with -c or exec() is the user's.
        return Origin.MACHINERY if filename.startswith("<frozen") else Origin.AGENT
    path = os.path.realpath(filename)
    if path.startswith(_OWN_DIR):
        return Origin.MACHINERY
    for root in _SITE:
        if path.startswith(root):
            if any(sub.replace("/", os.sep) in path for sub in _MACHINERY_SUBMODULES):
                return Origin.MACHINERY
            top = _top_module(path, root)
            if top in _RUN_DECIDING_MODULES:
                return Origin.PASSTHROUGH
            return Origin.MACHINERY if top in _MACHINERY_MODULES else Origin.LIBRARY
    for root in _STDLIB:
        if path.startswith(root):
            top = _top_module(path, root)
            return Origin.MACHINERY if top in _MACHINERY_MODULES else Origin.PASSTHROUGH
    if any(path.startswith(p) for p in extra_library_paths):
        return Origin.LIBRARY
    return Origin.AGENT


def classify(filename: str) -> Origin:
    origin = _cache.get(filename)
    if origin is None:
        origin = _cache[filename] = _classify_uncached(filename)
    return origin


def _generated(frame: FrameType) -> bool:
    """Code made with exec() (dataclass __init__, mock's signature wrappers) acts for its
    caller; only ``python -c`` module code in "<string>" is the user's own."""
    code = frame.f_code
    return code.co_filename == "<string>" and code.co_name != "<module>"


def origin_of_caller(depth: int) -> Origin:
    """The origin of the code that called the hooked function ``depth`` frames up."""
    if getattr(importing, "depth", 0):
        return _MACHINERY
    frame: FrameType | None = sys._getframe(depth + 1)
    cache = _cache
    while frame is not None:
        filename = frame.f_code.co_filename
        origin = cache.get(filename)
        if origin is None:
            origin = classify(filename)
        if origin is not _PASSTHROUGH and not _generated(frame):
            return origin
        frame = frame.f_back
    return _MACHINERY


def _fragments(*parts: str) -> tuple[str, ...]:
    return tuple(os.sep + part.replace("/", os.sep) for part in parts)


_UNRECORDED_SENDERS: Final = _fragments(
    "langsmith/",
    "opentelemetry/",
    "posthog/",
    "logfire/",
    "agents/tracing/",
    "crewai/telemetry/",
    "crewai/events/listeners/tracing/",
    "litellm/integrations/",
    "huggingface_hub/utils/_detect_agent",  # a registry of AI agent harnesses
    # The MCP SDK's HTTP transport: its requests are recorded whole, as tool steps.
    "mcp/client/",
)
"""Code whose HTTP is no input of the run: the telemetry frameworks send home, and the
MCP transport (intercept/mcp.py records its requests one level up)."""

_TRACING_WRAPPERS: Final = _fragments(
    "langsmith/run_helpers",  # @traceable
    "langsmith/wrappers/",  # wrap_openai, wrap_anthropic
    "opentelemetry/instrumentation/",  # instrumentors wrapping clients and SDKs
    "logfire/_internal/instrument",  # @logfire.instrument
    "logfire/_internal/integrations/",  # logfire.instrument_openai() ...
    "posthog/ai/",  # PostHog's wrapped model clients
)
"""Parts of those packages that wrap the agent's own calls (to trace them) and send
nothing themselves: a request made through them is the agent's."""

_SENDER, _NEITHER, _AGENT_CODE = 1, 0, 2
_sender_verdicts: dict[str, int] = {}


def _sender_verdict(filename: str) -> int:
    path = os.path.realpath(filename)
    if (
        any(path.startswith(root) for root in _SITE)
        and any(part in path for part in _UNRECORDED_SENDERS)
        and not any(part in path for part in _TRACING_WRAPPERS)
    ):
        return _SENDER
    return _AGENT_CODE if classify(filename) is _AGENT else _NEITHER


def unrecorded_sender(depth: int = 1) -> bool:
    """Is the HTTP request being sent by a framework's telemetry (LangSmith, OpenTelemetry
    exporters, the Agents SDK's traces, CrewAI's) or by the MCP transport? Such a request
    is no input of the run, even when the agent's own task sends it: it is neither
    recorded nor replayed, and an offline replay refuses its connection.

    The nearest code that is either decides, looking out from the HTTP client: the
    agent's own request made inside a ``@traceable`` function, or through a client that
    a tracer wraps, is the agent's; a trace that the agent's exit from such a function
    flushes is telemetry's. Library code between them (the SDK, the HTTP client) is
    looked through."""
    frame: FrameType | None = sys._getframe(depth + 1)
    verdicts = _sender_verdicts
    while frame is not None:
        code = frame.f_code
        verdict = verdicts.get(code.co_filename)
        if verdict is None:
            verdict = verdicts[code.co_filename] = _sender_verdict(code.co_filename)
        if verdict == _SENDER:
            return True
        if verdict and not _generated(frame):
            return False
        frame = frame.f_back
    return False


def agent_frame(depth: int = 1) -> FrameType | None:
    """The first frame outside library code, standard library and agentreplay."""
    frame: FrameType | None = sys._getframe(depth)
    while frame is not None:
        if classify(frame.f_code.co_filename) is _AGENT and not _generated(frame):
            return frame
        frame = frame.f_back
    return None


def library_caller(depth: int = 1) -> str | None:
    """Where installed library code called the hooked function (``package/module.py:line``,
    as under site-packages), past agentreplay's frames and the standard library's; None when
    the agent's own code is nearer (the call site says where)."""
    frame: FrameType | None = sys._getframe(depth)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.realpath(filename).startswith(_OWN_DIR):
            origin = classify(filename)
            if origin is Origin.LIBRARY:
                path = os.path.realpath(filename)
                root = next((root for root in _SITE if path.startswith(root)), "")
                return f"{path[len(root) :]}:{frame.f_lineno}"
            if origin is _AGENT and not _generated(frame):
                return None
        frame = frame.f_back
    return None


def agent_call_site(depth: int = 1) -> CallSite | None:
    """The first frame outside library code, standard library and agentreplay."""
    frame = agent_frame(depth + 1)
    if frame is None:
        return None
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    line = linecache.getline(filename, lineno).strip()
    return CallSite(filename, lineno, frame.f_code.co_name, line)
