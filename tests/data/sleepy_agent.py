"""A run that waits 40 s: 30 s of sleeps and a 10 s wait_for that times out.

`python -m tests.data.sleepy_agent` records it into sleepy_run.cassette (it takes
40 s, which is why the cassette is kept rather than recorded by each test run).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import anyio

import agentreplay

CASSETTE = Path(__file__).with_name("sleepy_run.cassette")


async def sleepy_run() -> dict[str, object]:
    start = time.monotonic()
    time.sleep(5)
    await asyncio.sleep(10)
    await anyio.sleep(5)  # anyio, as the SDKs' async retry backoff uses
    await asyncio.gather(asyncio.sleep(10), asyncio.sleep(4))
    try:
        await asyncio.wait_for(asyncio.Event().wait(), timeout=10)
        timed_out = False
    except TimeoutError:
        timed_out = True
    return {
        "elapsed": round(time.monotonic() - start),
        "timed_out": timed_out,
        "id": str(uuid.uuid4()),
    }


def run() -> dict[str, object]:
    return asyncio.run(sleepy_run())


def main() -> None:
    print(agentreplay.record(CASSETTE)(run)())


if __name__ == "__main__":
    main()
