"""The order service as an MCP server, written with the ``mcp`` package: one tool,
``lookup_order``, over stdio (the default) or streamable HTTP (``--http PORT``).
While it looks an order up it logs what it does and reports its progress, as
MCP notifications to the client.

The MCP example agent (``examples/mcp_agent.py``) starts it as a subprocess.
"""

from __future__ import annotations

import json
import sys
import warnings

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning

from agentreplay.demo.tool_server import ORDERS

server = MCPServer("orders")


@server.tool()
async def lookup_order(order_id: str, ctx: Context) -> str:
    """Find an order by its id."""
    with warnings.catch_warnings():  # logging is deprecated by the newest protocol revision
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await ctx.info(f"looking up {order_id}")
    await ctx.report_progress(1, 2, "order found" if order_id in ORDERS else "no such order")
    order = ORDERS.get(order_id)
    if order is None:
        raise ToolError(f"no order {order_id}")
    await ctx.report_progress(2, 2, "status read")
    return json.dumps({"order": order_id, "item": order["item"], "status": order["status"]})


if __name__ == "__main__":
    if "--http" in sys.argv:
        port = int(sys.argv[sys.argv.index("--http") + 1])
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
