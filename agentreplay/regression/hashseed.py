"""Pinning the string hash seed for a pytest session.

The order of a set of strings (tool names, say, joined into a prompt) depends
on the hash seed, which Python draws at random when the interpreter starts
unless ``PYTHONHASHSEED`` is set, and which nothing can change afterwards. A
regression cassette recorded under one seed then fails to replay under the
next. So when ``PYTHONHASHSEED`` is not set, the plugin starts pytest once
more, at once, with it set (to ``0``, or to ``--agentreplay-hash-seed N``),
as ``agentreplay record`` does for scripts. ``--agentreplay-hash-seed off``
(or the ``AGENTREPLAY_HASH_SEED=off`` environment variable, or the
``agentreplay_hash_seed = off`` ini setting) leaves the seed random.
"""

from __future__ import annotations

import os
import sys
from typing import Final

import pytest

__all__ = ["DEFAULT_SEED", "pin_hash_seed"]

DEFAULT_SEED: Final = "0"


def _choice(config: pytest.Config) -> str:
    given = getattr(config.known_args_namespace, "agentreplay_hash_seed", None)
    ini = config.getini("agentreplay_hash_seed")
    return str(given or os.environ.get("AGENTREPLAY_HASH_SEED") or ini or DEFAULT_SEED)


def pin_hash_seed(config: pytest.Config) -> None:
    """Restart this pytest run with ``PYTHONHASHSEED`` set, if it is not and may be."""
    if os.environ.get("PYTHONHASHSEED"):
        return  # the user's, or set by the restart: kept
    seed = _choice(config)
    if seed == "off" or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if list(config.invocation_params.args) != sys.argv[1:]:
        return  # pytest.main() inside a running program: it cannot be restarted
    if not seed.isdigit() or int(seed) > 4294967295:
        raise pytest.UsageError(
            f"agentreplay: the hash seed must be a number from 0 to 4294967295, or off; "
            f"not {seed!r}"
        )
    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, "PYTHONHASHSEED": seed}
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
