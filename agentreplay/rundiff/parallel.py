"""Reading the two runs at once: run B in a second Python process, run A in this one.

Reading a run means decoding every one of its steps (`digest.py`), a fixed cost
per step that dominates a diff of long runs; with two cores, two long runs are
read in about the time of one. Run B goes to a fresh interpreter that imports
this very module (it checks) and sends back its `RunRead` and the warnings
reading raised, pickled on its standard output. A fresh interpreter rather than
`multiprocessing`: forking a program that runs threads (the terminal UI does)
is unsafe, and a spawned process would import the caller's main module again.
It pays about a quarter of a second to start, so only runs whose cassettes
weigh `PARALLEL_BYTES` or more are read this way.

If the second process cannot start or does not deliver (a damaged cassette
among others), run B is read in this process instead, which then raises what a
damaged cassette raises. The result is the same either way.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

from agentreplay.cassette.reader import CassetteReader, open_reader
from agentreplay.rundiff.digest import RunRead, read_run
from agentreplay.rundiff.ignore import Ignore

__all__ = ["PARALLEL_BYTES", "read_runs"]

PARALLEL_BYTES = 256 * 1024
"""Both cassettes at least this big (about 2,000 steps), and two cores or more to run
on: run B is read in a second process while this one reads run A."""

_HERE = str(Path(__file__).resolve())
_ROOT = str(Path(_HERE).parents[2])
# -P: nothing in the working directory shadows the package. The root this module was
# loaded from comes last, for an editable install or a source checkout; a copy found
# before it fails the check in `_main`.
_BOOT = (
    "import sys\n"
    "sys.path.append(sys.argv[1])\n"
    "from agentreplay.rundiff.parallel import _main\n"
    "raise SystemExit(_main(sys.argv[2:]))\n"
)
_Delivery = tuple[RunRead, list[tuple[type[Warning], str]]]


def read_runs(
    a: CassetteReader, b: CassetteReader, rules: Ignore, *, in_parallel: bool = True
) -> tuple[RunRead, RunRead]:
    """Both runs read, B in a second process when ``in_parallel`` and both are big."""
    helper = _start(b, rules) if in_parallel and _worthwhile(a, b) else None
    try:
        read_a = read_run(a, rules)
        delivered = _collect(helper) if helper is not None else None
    finally:
        if helper is not None and helper.poll() is None:
            helper.kill()
            helper.wait()
    if delivered is None:
        return read_a, read_run(b, rules)
    read_b, raised = delivered
    for category, message in raised:
        warnings.warn(message, category, stacklevel=3)
    return read_a, read_b


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _worthwhile(a: CassetteReader, b: CassetteReader) -> bool:
    """Both cassettes are big, and this process may run on two cores or more."""
    try:
        big = min(os.path.getsize(a.path), os.path.getsize(b.path)) >= PARALLEL_BYTES
    except (OSError, TypeError, ValueError):
        return False
    return big and _cores() > 1


def _start(b: CassetteReader, rules: Ignore) -> subprocess.Popen[bytes] | None:
    if not sys.executable:
        return None
    command = [sys.executable, "-P", "-c", _BOOT, _ROOT, _HERE, os.fspath(b.path)]
    try:
        return subprocess.Popen(
            [*command, *rules.patterns],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None


def _collect(helper: subprocess.Popen[bytes]) -> _Delivery | None:
    out, _ = helper.communicate()
    if helper.returncode != 0:
        return None
    try:
        delivered: _Delivery = pickle.loads(out)  # from the process started above
    except Exception:  # a truncated or foreign stream: read B here instead
        return None
    return delivered


def _main(argv: list[str]) -> int:
    expected, path, patterns = argv[0], argv[1], tuple(argv[2:])
    if expected != _HERE:  # another copy of the package: its digests may not compare
        return 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with open_reader(path) as cassette:
                found = read_run(cassette, Ignore(patterns))
        except Exception:  # the caller reads B itself and reports what went wrong
            return 1
    raised = [(w.category, str(w.message)) for w in caught]
    sys.stdout.buffer.write(pickle.dumps((found, raised), protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0
