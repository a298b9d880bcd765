"""The order service as an MCP server, written with the ``mcp`` package: one tool,
``lookup_order``, over stdio (the default) or streamable HTTP (``--http PORT``).

The MCP example agent (``examples/mcp_agent.py``) starts it as a subprocess.
"""

from __future__ import annotations

import json
import sys

from mcp.server.mcpserver import MCPServer

from agentreplay.demo.tool_server import ORDERS

server = MCPServer("orders")


@server.tool()
def lookup_order(order_id: str) -> str:
    """Find an order by its id."""
    order = ORDERS.get(order_id)
    if order is None:
        raise ValueError(f"no order {order_id}")
    return json.dumps({"order": order_id, "item": order["item"], "status": order["status"]})


if __name__ == "__main__":
    if "--http" in sys.argv:
        port = int(sys.argv[sys.argv.index("--http") + 1])
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
