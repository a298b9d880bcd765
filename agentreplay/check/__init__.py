"""``agentreplay check``: replay a corpus of cassettes against the code as it is now.

Before a prompt or code change is merged, the runs already captured (in
production, by hand, by the pytest plugin) say what the change does: each
cassette that records a script or an ``@agentreplay.entrypoint`` call is
replayed in a worker process, and gets a verdict (`runner.Verdict`). The
corpus is found and split into shards in `corpus.py`, replayed in
`runner.py`, and reported in `report.py` (a table, JSON, JUnit XML, and a
Markdown summary for CI).
"""

from __future__ import annotations

from agentreplay.check.corpus import find_cassettes, read_expectations, shard, write_expectation
from agentreplay.check.runner import CheckOptions, Result, Verdict, check_all

__all__ = [
    "CheckOptions",
    "Result",
    "Verdict",
    "check_all",
    "find_cassettes",
    "read_expectations",
    "shard",
    "write_expectation",
]
