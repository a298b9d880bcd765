"""The Starlette app the capture tests serve with uvicorn: one agent run per request.

``POST /ask/{n}`` runs the agent of `tests.capture.agent` for question n and answers
its result, or fails (500) when the model refuses: it raises, or with
``ANSWER_FAILURES`` set it answers 500 itself. Capture is enabled at import
from ``CAPTURE_SINK`` and ``CAPTURE_SAMPLE``; the clients are made in the lifespan.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agentreplay import capture
from tests.capture.agent import AgentFailed, ask_async, async_clients

if os.environ.get("CAPTURE_SINK"):
    capture.enable(
        os.environ["CAPTURE_SINK"],
        sample=float(os.environ.get("CAPTURE_SAMPLE", "0")),
        keep=os.environ.get("CAPTURE_KEEP", "errors"),
    )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    client, http = async_clients()
    yield {"client": client, "http": http}
    await http.aclose()
    await client.close()


async def ask(request: Request) -> JSONResponse:
    n = int(request.path_params["n"])
    if request.query_params.get("flag"):
        capture.flag("asked to")
    try:
        result = await ask_async(n, request.state.client, request.state.http)
    except AgentFailed as exc:
        if not os.environ.get("ANSWER_FAILURES"):
            raise  # the server's error handler answers 500
        return JSONResponse({"error": str(exc)}, status_code=500)
    return JSONResponse(result)


app = Starlette(routes=[Route("/ask/{n:int}", ask, methods=["POST"])], lifespan=lifespan)
app.add_middleware(capture.ASGIMiddleware)
