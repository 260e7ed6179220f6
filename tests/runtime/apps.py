"""An HTTP app the fleet tests run in real instance processes: it says which instance
answered, can be slow, and fails its health check while a file names it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


def create_app() -> Starlette:
    instance = os.environ.get("ARCHLAB_INSTANCE_ID", "?")
    sick = Path(os.environ.get("ARCHLAB_TEST_OUTPUT", "/nonexistent")).with_name("sick")

    async def health(request: Request) -> PlainTextResponse:
        if sick.exists() and instance in sick.read_text().split():
            return PlainTextResponse("sick", status_code=503)
        return PlainTextResponse("ok")

    async def whoami(request: Request) -> JSONResponse:
        delay = float(request.query_params.get("ms", "0")) / 1000
        if delay:
            await asyncio.sleep(delay)
        return JSONResponse({"instance": instance, "pid": os.getpid()})

    async def order(request: Request) -> JSONResponse:
        await asyncio.sleep(float(request.query_params.get("ms", "0")) / 1000)
        return JSONResponse({"instance": instance, "body": (await request.body()).decode()})

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/whoami", whoami),
            Route("/order", order, methods=["POST"]),
        ]
    )
