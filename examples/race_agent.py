"""An order-status agent with a race in it.

It asks two services about an order at once, the order database and the
shipping tracker, and means to keep the shipping tracker's answer, which is
fresher. But both lookups write into the same dict, so it keeps whichever
answers *last*. The tracker is usually slower, so the agent usually works;
when the database happens to answer last, it reports a stale status.

A recording of a good run replays fine every time, because replay keeps the
recorded timing. ``agentreplay check --chaos 20`` replays it under other
timings the recording allows and finds the race; ``agentreplay replay FILE
--chaos SEED -o bad.cassette`` keeps the schedule that breaks it.

Run it against ``agentreplay demo --serve`` (its tool server listens on 8001)::

    RACE_TOOLS_URL=http://127.0.0.1:8001 python examples/race_agent.py A-1001
"""

from __future__ import annotations

import asyncio
import os
import sys

import httpx

import agentreplay


@agentreplay.entrypoint
async def main(order_id: str) -> str:
    tools = os.environ.get("RACE_TOOLS_URL", "http://127.0.0.1:8001")
    latest: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=tools) as client:

        async def ask(path: str, delay: float) -> None:
            reply = await client.get(path, params={"order_id": order_id, "delay": delay})
            latest["source"] = path  # the bug: whoever answers last wins
            latest["status"] = reply.json()["status"]

        await asyncio.gather(ask("/lookup_order", 0.04), ask("/shipping_status", 0.07))
    if latest["source"] != "/shipping_status":
        raise RuntimeError(f"stale status {latest['status']!r} from {latest['source']}")
    return f"Order {order_id}: {latest['status']}"


if __name__ == "__main__":
    print(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "A-1001")))
