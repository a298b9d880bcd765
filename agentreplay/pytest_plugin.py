"""pytest plugin: regression cassettes for agents (hooks, options, markers, fixtures)."""

from __future__ import annotations
