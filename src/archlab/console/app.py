"""The console's web application, and a helper that serves it beside the supervisor.

The app holds no state of its own: every request asks ``state()`` (the supervisor's snapshot)
what runs, and the messaging engine how full the queues are, so the console can never disagree
with ``archlab status``. One engine is opened when the app is made and shared by every request
(the SQLite engine keeps one connection per thread).

Errors are ``application/problem+json`` (RFC 9457) — unknown routes, bad parameters and
refused redrives alike — so a script driving the API reads one shape of error.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from archlab import settings
from archlab.blocks import Queue
from archlab.blocks.errors import MessagingError, QueueDoesNotExist
from archlab.blocks.queue import MAX_REDRIVE_RATE
from archlab.console import clickstream
from archlab.console.live import dead_letter_sources, live_state
from archlab.console.page import page
from archlab.console.review import review_page
from archlab.engines import connect
from archlab.runtime import chaos

PROBLEM = "application/problem+json"
Days = Annotated[int, Query(ge=1, le=clickstream.MAX_DAYS, description="the lake's last days")]


def create_app(
    state: Callable[[], dict[str, Any]], messaging_url: str, home: Path | None = None
) -> FastAPI:
    """The console for the systems ``state()`` describes, reading queues at ``messaging_url``;
    its chaos buttons act under ``home`` (ARCHLAB_HOME by default)."""
    chaos_home = home or settings.home()
    engine = connect(messaging_url)
    dashboard = clickstream.Dashboard(chaos_home)
    app = FastAPI(title="archlab console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.clickstream = dashboard
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(MessagingError, _messaging_problem)
    app.add_exception_handler(Exception, _server_problem)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page(state())

    @app.get("/review", response_class=HTMLResponse)
    def review(system: str | None = None, profile: str | None = None) -> str:
        """The Well-Architected review of a system at a profile, drawn with its findings."""
        running = {
            name: entry.get("profile", "") for name, entry in state().get("systems", {}).items()
        }
        try:
            return review_page(running, system, profile)
        except LookupError as error:
            raise HTTPException(404, str(error.args[0])) from None

    @app.get("/api/state")
    def api_state() -> dict[str, Any]:
        return live_state(state(), engine)

    @app.post("/api/queues/{name}/redrive")
    def redrive(
        name: str,
        max_per_second: Annotated[int, Query(ge=1, le=MAX_REDRIVE_RATE)] = MAX_REDRIVE_RATE,
    ) -> dict[str, Any]:
        """Move a dead-letter queue's messages back to the queues they came from."""
        current = state()
        if name not in current.get("queues", {}):
            raise HTTPException(404, f"no queue {name!r} in the running systems")
        sources = dead_letter_sources(current).get(name)
        if not sources:
            raise HTTPException(
                400, f"{name} is not a dead-letter queue: only dead-letter queues are redriven"
            )
        moved = Queue(engine, name).redrive(max_per_second=max_per_second)
        return {"queue": name, "moved": moved, "sources": sources}

    @app.get("/api/chaos")
    def chaos_log() -> dict[str, Any]:
        return {"actions": chaos.history(chaos_home, 20)}

    @app.post("/api/chaos/instances/{instance}/kill")
    def kill_instance(instance: str) -> dict[str, Any]:
        return _chaos(lambda: chaos.kill_instance(state(), chaos_home, instance))

    @app.post("/api/chaos/zones/{zone}/kill")
    def kill_zone(zone: str) -> dict[str, Any]:
        return _chaos(lambda: chaos.kill_zone(state(), chaos_home, zone))

    @app.post("/api/chaos/zones/{zone}/restore")
    def restore_zone(zone: str) -> dict[str, Any]:
        return _chaos(lambda: chaos.restore_zone(state(), chaos_home, zone))

    def clickstream_data(days: int) -> dict[str, Any]:
        current = state()
        if clickstream.SYSTEM not in current.get("systems", {}):
            raise HTTPException(
                404, "the clickstream is not running: start it with `archlab up clickstream`"
            )
        collector = (current.get("endpoints") or {}).get(clickstream.SYSTEM)
        return dashboard.data(days, collector)

    @app.get("/api/clickstream")
    def api_clickstream(days: Days = clickstream.DEFAULT_DAYS) -> dict[str, Any]:
        """The clickstream dashboard's data: the lake's answers over the last ``days`` days,
        the stream's one-minute windows and the collector's counters (kept a few seconds)."""
        return clickstream_data(days)

    @app.get("/api/clickstream/fragments")
    def clickstream_fragments(days: Days = clickstream.DEFAULT_DAYS) -> dict[str, Any]:
        """The same, drawn: the page's charts and panels as HTML, by the slot they fill."""
        data = clickstream_data(days)
        return {"generated_at": data["generated_at"], "fragments": clickstream.fragments(data)}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _chaos(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return action()
    except chaos.ChaosError as error:
        raise HTTPException(404 if str(error).startswith("no ") else 409, str(error)) from None


def problem(request: Request, status: int, detail: str) -> JSONResponse:
    """An RFC 9457 problem: with no specific ``type``, the title is the HTTP status phrase."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def _http_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return problem(request, error.status_code, str(error.detail))


async def _validation_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    detail = "; ".join(
        f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
    )
    return problem(request, 400, detail)


async def _messaging_problem(request: Request, error: Exception) -> JSONResponse:
    """The engine refused (a queue deleted by hand since ``archlab up`` started, say)."""
    assert isinstance(error, MessagingError)
    status = 404 if isinstance(error, QueueDoesNotExist) else 400
    return problem(request, status, f"{error.code}: {error.message}")


async def _server_problem(request: Request, error: Exception) -> JSONResponse:
    """A bug: a 500 problem, its cause in the log (the server logs the traceback)."""
    return problem(request, 500, f"the console failed: {type(error).__name__}")


def serve(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 8080
) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve ``app`` from a daemon thread; return once it accepts connections.

    The socket is bound here, in the caller's thread, so a port in use raises ``OSError`` at
    once, and port 0 picks a free port: ``server.config.port`` holds the real one. Set
    ``server.should_exit = True`` (then join the thread) to stop it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family)
    config = uvicorn.Config(
        app,
        host=host,
        port=listener.getsockname()[1],
        log_config=None,  # leave the logging of `archlab up` as it is
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="archlab-console", daemon=True
    )
    thread.start()
    while not server.started:
        if not thread.is_alive():
            listener.close()
            raise RuntimeError(f"the console could not start on {host}:{config.port}")
        time.sleep(0.01)
    return server, thread
