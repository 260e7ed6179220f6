"""The collector: ``POST /collect`` takes the tracker's batches and puts each accepted event on
the stream, and ``GET /tracker.js`` serves the tracker itself.

A batch is answered ``200`` with how many events were accepted and, for each refused one, its
index and the reason (the tracker does not retry those: they would be refused again); a batch
that cannot be read at all is a ``400`` problem, one too large a ``413``. Bots get a ``200``
that keeps nothing (a crawler has no use for an error). Events go on the stream partitioned
by session, so a session's events stay in order on one shard; only once the stream
acknowledged them is the batch answered. A batch's events go in one PutRecords, together with
those of the batches that arrived while the previous call was being made (up to
PutRecords' 500 records and 5 MiB; a batch is never split): one durable write for many
requests, where a call each would have them queue for the stream's lock, a sync each.

The tracker posts ``text/plain`` (what ``sendBeacon`` sends without a CORS preflight); any
content type is read as JSON. Pages on other origins may post (CORS allows any origin, no
credentials). Behind archlab's load balancer the client's address is the first of
``X-Forwarded-For``, trusted only when the request came from loopback.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from archlab.blocks.stream import MAX_RECORDS_PER_PUT, MAX_REQUEST_BYTES, Stream
from archlab.clock import Clock, SystemClock
from archlab.systems.clickstream.events import MAX_BATCH_BYTES, BadBatch, check, client, read_batch

PROBLEM = "application/problem+json"

TRACKER = Path(__file__).parent / "static" / "tracker.js"
LOOPBACK = ("127.", "::1")


@dataclass
class Counters:
    batches: int = 0
    accepted: int = 0
    refused: int = 0
    bot_events: int = 0
    bad_batches: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def state(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


def problem(status: int, title: str, detail: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status, media_type=PROBLEM)


def client_address(request: Request) -> str:
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer.startswith(LOOPBACK):
        return forwarded.split(",")[0].strip()
    return peer


def create_collector_app(stream: Stream, clock: Clock | None = None) -> FastAPI:
    clock = clock or SystemClock()
    counters = Counters()
    tracker = TRACKER.read_bytes()
    app = FastAPI(title="archlab clickstream collector")
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["POST"], allow_headers=["Content-Type"]
    )
    app.state.counters = counters
    putter = _Putter(stream)

    @app.post("/collect")
    async def collect(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
            counters.add(bad_batches=1)
            return problem(413, "Batch too large", f"at most {MAX_BATCH_BYTES:,} bytes a batch")
        body = await request.body()
        try:
            events = read_batch(body)
        except BadBatch as error:
            counters.add(bad_batches=1)
            status = 413 if len(body) > MAX_BATCH_BYTES else 400
            return problem(status, "Unreadable batch", str(error))
        sender = client(client_address(request), request.headers.get("user-agent", ""))
        checked = check(events, sender, int(clock.now() * 1000))
        if checked.bot:
            counters.add(batches=1, bot_events=len(events))
            return JSONResponse({"accepted": 0, "refused": [], "bot": True})
        if checked.records:
            entries = [
                {"Data": _encoded(r), "PartitionKey": r["session_id"]} for r in checked.records
            ]
            await putter.put(entries)
        counters.add(batches=1, accepted=len(checked.records), refused=len(checked.refused))
        refused = [{"index": r.index, "reason": r.reason} for r in checked.refused]
        return JSONResponse({"accepted": len(checked.records), "refused": refused, "bot": False})

    @app.get("/tracker.js")
    def tracker_script() -> Response:
        return Response(
            tracker,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/stats")
    def stats() -> dict[str, int]:
        return counters.state()

    return app


Entry = dict[str, Any]


class _Putter:
    """PutRecords for the batches of concurrent requests together (see the module): a batch
    waits while a call is made, then goes with every batch that waited with it, in the order
    they came. A call that fails fails each batch in it."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self._waiting: list[tuple[list[Entry], asyncio.Future[None]]] = []
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        """Held: the event loop keeps only a weak reference to a task."""

    async def put(self, entries: list[Entry]) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((entries, done))
        if not self._busy:
            self._busy = True
            self._task = asyncio.get_running_loop().create_task(self._put_waiting())
        await done

    async def _put_waiting(self) -> None:
        batches: list[tuple[list[Entry], asyncio.Future[None]]] = []
        try:
            while self._waiting:
                batches = self._take()
                try:
                    await run_in_threadpool(
                        self.stream.put_records, [e for entries, _ in batches for e in entries]
                    )
                except Exception as error:  # each request answers it
                    _settle(batches, error)
                else:
                    _settle(batches, None)
                batches = []
        except BaseException as error:  # cancelled (the loop is closing): no batch waits on
            _settle([*batches, *self._waiting], error)
            self._waiting = []
            raise
        finally:
            self._busy = False

    def _take(self) -> list[tuple[list[Entry], asyncio.Future[None]]]:
        """The waiting batches that fit in one PutRecords (the first always goes)."""
        records = size = 0
        taken = 0
        for entries, _ in self._waiting:
            more = sum(len(e["Data"]) + len(e["PartitionKey"].encode()) for e in entries)
            if taken and (
                records + len(entries) > MAX_RECORDS_PER_PUT or size + more > MAX_REQUEST_BYTES
            ):
                break
            records, size, taken = records + len(entries), size + more, taken + 1
        batches, self._waiting[:taken] = self._waiting[:taken], []
        return batches


def _settle(
    batches: list[tuple[list[Entry], asyncio.Future[None]]], error: BaseException | None
) -> None:
    """Answer the requests of ``batches``: done, or failed with ``error``."""
    for _, done in batches:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        elif isinstance(error, asyncio.CancelledError):
            done.cancel()
        else:
            done.set_exception(error)


_ENCODER = json.JSONEncoder(separators=(",", ":"))
"""One encoder for every record: ``json.dumps`` with separators makes one a call."""


def _encoded(record: dict[str, Any]) -> bytes:
    return _ENCODER.encode(record).encode()


def create_app() -> FastAPI:
    """The running system's collector: events onto its stream (the topology's factory)."""
    from archlab.systems.clickstream.pipeline import stream

    return create_collector_app(stream())
