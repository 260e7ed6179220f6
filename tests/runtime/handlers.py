"""Handlers the runtime tests run in real worker and function processes. Spawned processes share
nothing with the test but files: each handler appends a line to the file ARCHLAB_TEST_OUTPUT
names (one short write with O_APPEND, so lines from several processes never interleave)."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from archlab.blocks.queue import Message


def _append(line: str) -> None:
    descriptor = os.open(os.environ["ARCHLAB_TEST_OUTPUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(descriptor, (line + "\n").encode())
    finally:
        os.close(descriptor)


def record(message: Message) -> None:
    """Record the body; a body starting with "poison" fails, one starting with "slow" takes
    half a second."""
    if message.body.startswith("poison"):
        raise RuntimeError("cannot process a poison message")
    if message.body.startswith("slow"):
        time.sleep(0.5)
    _append(f"{os.getpid()} {message.body}")


def record_event(event: Any) -> None:
    """A function: record what triggered it."""
    if "Records" in event:
        for record in event["Records"]:
            source = record.get("eventSource") or record.get("EventSource")
            body = record.get("body") or record.get("Sns", {}).get("Message")
            if "kinesis" in record:
                body = base64.b64decode(record["kinesis"]["data"]).decode()
            _append(json.dumps({"source": source, "body": body}))
    else:
        _append(json.dumps({"source": event.get("source"), "body": event.get("detail-type")}))


def lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().splitlines()
    except FileNotFoundError:
        return []


def demo_app() -> Any:
    """An HTTP service for the runtime tests: answers its pid."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def pid(request: Any) -> JSONResponse:
        return JSONResponse({"pid": os.getpid()})

    return Starlette(routes=[Route("/pid", pid)])
