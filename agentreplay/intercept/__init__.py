"""Interceptors: the thin hooks that see a run's non-deterministic inputs.

One module per thing hooked: ``httpx.py`` (httpx and httpx2), ``requests.py``
(urllib3, so requests), ``aiohttp.py``, ``clock.py``, ``entropy.py``,
``vtime.py`` (virtual time on replay), ``network.py`` (no live network on
replay), ``tasks.py`` (logical task ids into tasks and threads),
``imports.py`` (first imports are nobody's), and ``tools.py`` (the
``@agentreplay.tool`` and ``agentreplay.step`` API).

Hooks import nothing from `agentreplay.session`: they find the active
session with `agentreplay.runtime.scope.active_session` and ask it, through
the `agentreplay.runtime.contract.ActiveSession` Protocol, for the value to
hand back. They are installed through `agentreplay.runtime.registry`;
nothing is patched at import time.
"""
