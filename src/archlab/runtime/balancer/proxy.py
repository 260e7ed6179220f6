"""The load balancer's HTTP/1.1 reverse proxy: asyncio protocols with httptools' C parsers.

A hand-written proxy rather than a framework's client and server: a request crosses it twice
(parsed from the client, written to a target, its response parsed and written back), and on two
cores every microsecond of Python per request is throughput lost to the tiers behind it. The
protocols below do only that work: httptools parses, bytes are joined once per message, and a
response's body streams to the client as it arrives.

What it does, per request:

- **WAF first** (:mod:`.waf`): a request a rule blocks never reaches a target.
- **Routing** by path prefix to a target group, then **least outstanding requests** within it
  (:mod:`.targets`).
- **Keep-alive pools** of connections to each target; idle ones are dropped after
  ``IDLE_SECONDS`` (below uvicorn's 5-second keep-alive, so the target never closes first).
- **Headers**: ``X-Forwarded-For`` (appended to), ``-Proto``, ``-Port`` and ``-Host``, and an
  ``X-Request-Id`` (the client's when well formed, else a new one), also on the response;
  hop-by-hop headers are not forwarded.
- **Responses are held back until complete, up to** ``RESPONSE_BUFFER_BYTES`` (nginx's
  ``proxy_buffering``): a target that dies half-way through a response has then sent the client
  nothing, so the request can still go elsewhere. Larger responses stream once the buffer is
  full.
- **Retries.** A connection a target refuses means the request never reached it: any request is
  sent to another target. A connection dropped before a response was sent on (the target died
  mid-request) is retried on another target only when the request is idempotent -- GET, HEAD,
  PUT, DELETE, OPTIONS, or any request with an ``Idempotency-Key`` header, which the
  application tier honours -- since a POST may have taken effect. A response already streaming
  cannot be taken back: the client's connection is closed.
- Errors the balancer makes itself are ``application/problem+json``: 400 (unparseable), 403,
  413 and 429 (WAF), 502 (no target answered), 503 (no target registered), 504 (timeout).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, cast

import httptools

from archlab.runtime.balancer.targets import Target, TargetGroup
from archlab.runtime.balancer.waf import Verdict, Waf

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
    }
)
"""Headers that describe one connection, not the message (RFC 9110 section 7.6.1), and
``Expect``, which the balancer answers itself."""
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"PUT", b"DELETE", b"OPTIONS"})
BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH"})
REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
IDLE_SECONDS = 4.0
CLIENT_IDLE_SECONDS = 60.0
"""A client connection with no request for this long is closed (ALB's idle timeout)."""
MAX_IDLE_PER_TARGET = 64
CONNECT_TIMEOUT_S = 2.0
RESPONSE_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 3
RESPONSE_BUFFER_BYTES = 256 * 1024
REASONS = {status.value: status.phrase for status in HTTPStatus}
PHRASES = {status: phrase.encode() for status, phrase in REASONS.items()}
_ID_PREFIX = os.urandom(8).hex()
_ids = itertools.count(1)


def new_request_id() -> bytes:
    """A request id no other balancer process gives: a random prefix drawn when this one
    started, then a count (a uuid4 per request cost several percent of the balancer's time)."""
    return f"{_ID_PREFIX}{next(_ids):016x}".encode()


class ConnectFailed(Exception):
    """The target refused the connection or did not accept it in time."""


class UpstreamDropped(Exception):
    """The target's connection ended before its response was complete."""

    def __init__(self, started: bool, reused: bool) -> None:
        super().__init__("the target closed the connection")
        self.started = started
        """Whether part of the response had already gone to the client."""
        self.reused = reused


@dataclass
class Request:
    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    keep_alive: bool
    expect_continue: bool = False

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass
class Route:
    prefix: str
    group: TargetGroup


@dataclass
class ListenerStats:
    requests: int = 0
    retries: int = 0
    responses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("2xx", "3xx"), 0))
    local: dict[int, int] = field(default_factory=dict)
    """Responses the balancer made itself, by status."""

    def responded(self, status: int) -> None:
        kind = f"{status // 100}xx"
        self.responses[kind] = self.responses.get(kind, 0) + 1


class Listener:
    """One listening port: its WAF (or none), its routes, its pools, its counters."""

    def __init__(
        self,
        name: str,
        port: int,
        routes: list[Route],
        default: TargetGroup,
        waf: Waf | None,
        access_log: Callable[[dict[str, Any]], None] | None = None,
        waf_log: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.routes = sorted(routes, key=lambda r: -len(r.prefix))
        self.default = default
        self.waf = waf
        self.pools = Pools()
        self.stats = ListenerStats()
        self.access_log = access_log
        self.waf_log = waf_log
        self.in_flight = 0

    def protocol(self) -> ClientConnection:
        return ClientConnection(self)

    def group_for(self, target: bytes) -> TargetGroup:
        path = target.split(b"?", 1)[0].decode("latin-1")
        for route in self.routes:
            if path.startswith(route.prefix):
                return route.group
        return self.default

    async def handle(self, client: ClientConnection, request: Request) -> bool:
        """Answer one request; whether the client connection may carry another."""
        started = time.perf_counter()
        self.stats.requests += 1
        self.in_flight += 1
        request_id = request.header(b"x-request-id")
        if request_id is None or not REQUEST_ID.fullmatch(request_id):
            request_id = new_request_id()
        entry: dict[str, Any] = {
            "time": time.time(),
            "client": client.peer,
            "method": request.method.decode("latin-1"),
            "path": request.target.decode("latin-1"),
            "request_id": request_id.decode(),
        }
        try:
            verdict = self._firewall(client, request)
            if verdict is not None and verdict.blocked:
                entry["waf"] = verdict.rule
                status = client.problem(
                    verdict.status, verdict.reason, request_id, request.keep_alive
                )
                entry["status"] = status
                return request.keep_alive and status != 413
            status, target, attempts = await self._forward(client, request, request_id)
            entry.update(status=status, target=target, attempts=attempts)
            return request.keep_alive and client.open and not client.close_after
        finally:
            self.in_flight -= 1
            entry["ms"] = round((time.perf_counter() - started) * 1000, 3)
            if "status" in entry:
                self.stats.responded(entry["status"])
            if self.access_log is not None:
                self.access_log(entry)

    def _firewall(self, client: ClientConnection, request: Request) -> Verdict | None:
        if self.waf is None:
            return None
        cookies = b"; ".join(v for k, v in request.headers if k.lower() == b"cookie")
        verdict = self.waf.inspect(
            client.peer, request.target.decode("latin-1"), cookies.decode("latin-1"), request.body
        )
        if verdict is not None:
            self.log_finding(client.peer, request.method, request.target, verdict)
        return verdict

    def log_finding(self, client: str, method: bytes, target: bytes, verdict: Verdict) -> None:
        if self.waf_log is not None:
            self.waf_log(
                {
                    "time": time.time(),
                    "client": client,
                    "method": method.decode("latin-1"),
                    "path": target.decode("latin-1")[:300],
                    "rule": verdict.rule,
                    "action": "block" if verdict.blocked else "count",
                    "reason": verdict.reason,
                }
            )

    async def _forward(
        self, client: ClientConnection, request: Request, request_id: bytes
    ) -> tuple[int, str | None, int]:
        """Send the request to a target, retrying where that is safe: (status, target id,
        attempts)."""
        group = self.group_for(request.target)
        head = self._upstream_head(client, request, request_id)
        retry_sent = request.method in IDEMPOTENT or request.header(b"idempotency-key") is not None
        tried: set[str] = set()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            target = group.choose(tried)
            if target is None:
                if tried:
                    detail = f"every target of {group.name} failed"
                    return (
                        client.problem(502, detail, request_id, request.keep_alive),
                        None,
                        attempt,
                    )
                detail = f"no target is registered in {group.name}"
                return client.problem(503, detail, request_id, request.keep_alive), None, attempt
            if attempt > 1:
                self.stats.retries += 1
            target.outstanding += 1
            target.requests += 1
            try:
                status = await self._exchange(target, head, request, client, request_id)
                return status, target.id, attempt
            except ConnectFailed as error:
                group.connection_failed(target, str(error))
                tried.add(target.id)
            except UpstreamDropped as error:
                if error.started:
                    client.abort()
                    return 502, target.id, attempt
                if not error.reused:
                    target.failures += 1
                if not retry_sent:
                    detail = f"{target.id} closed the connection before answering"
                    status = client.problem(502, detail, request_id, request.keep_alive)
                    return status, target.id, attempt
                tried.add(target.id)
            except TimeoutError:
                detail = f"{target.id} did not answer within {RESPONSE_TIMEOUT_S:g} s"
                return client.problem(504, detail, request_id, False), target.id, attempt
            finally:
                target.outstanding -= 1
        detail = f"no target of {group.name} answered after {MAX_ATTEMPTS} attempts"
        return client.problem(502, detail, request_id, request.keep_alive), None, MAX_ATTEMPTS

    async def _exchange(
        self,
        target: Target,
        head: bytes,
        request: Request,
        client: ClientConnection,
        request_id: bytes,
    ) -> int:
        connection = self.pools.take(target)
        reused = connection is not None
        if connection is None:
            connection = await self._connect(target)
        done = connection.send(head + request.body, client, request, request_id, reused)
        timer = asyncio.get_running_loop().call_later(RESPONSE_TIMEOUT_S, _expire, done, connection)
        try:
            keep = await done
        finally:
            timer.cancel()
        if keep:
            self.pools.give(target, connection)
        else:
            connection.close()
        return connection.status

    async def _connect(self, target: Target) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(UpstreamConnection, target.host, target.port),
                CONNECT_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as error:
            raise ConnectFailed(f"connect to {target.host}:{target.port}: {error}") from None
        return protocol

    def _upstream_head(
        self, client: ClientConnection, request: Request, request_id: bytes
    ) -> bytes:
        lines = [request.method + b" " + request.target + b" HTTP/1.1"]
        forwarded_for = client.peer.encode()
        host = b""
        for name, value in request.headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower == b"content-length" or lower == b"x-request-id":
                continue
            if lower == b"x-forwarded-for":
                forwarded_for = value + b", " + forwarded_for
                continue
            if lower.startswith(b"x-forwarded-"):
                continue  # the balancer's own, below: a client cannot set them
            if lower == b"host":
                host = value
            lines.append(name + b": " + value)
        lines += [
            b"X-Forwarded-For: " + forwarded_for,
            b"X-Forwarded-Proto: http",
            b"X-Forwarded-Port: " + str(self.port).encode(),
            b"X-Request-Id: " + request_id,
        ]
        if request.body or request.method in BODY_METHODS:
            lines.append(b"Content-Length: " + str(len(request.body)).encode())
        if host:
            lines.append(b"X-Forwarded-Host: " + host)
        return b"\r\n".join(lines) + b"\r\n\r\n"


def _expire(done: asyncio.Future[bool], connection: UpstreamConnection) -> None:
    if not done.done():
        done.set_exception(TimeoutError())
        connection.close()


class Pools:
    """Idle keep-alive connections per target, newest last."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[tuple[float, UpstreamConnection]]] = {}

    def take(self, target: Target) -> UpstreamConnection | None:
        idle = self._idle.get((target.host, target.port))
        now = time.monotonic()
        while idle:
            since, connection = idle.pop()
            if connection.usable and now - since < IDLE_SECONDS:
                return connection
            connection.close()
        return None

    def give(self, target: Target, connection: UpstreamConnection) -> None:
        idle = self._idle.setdefault((target.host, target.port), [])
        if len(idle) >= MAX_IDLE_PER_TARGET or not connection.usable:
            connection.close()
            return
        idle.append((time.monotonic(), connection))

    def close(self) -> None:
        for idle in self._idle.values():
            for _, connection in idle:
                connection.close()
        self._idle.clear()


class ClientConnection(asyncio.Protocol):
    """A client's connection: requests parsed in order, answered one at a time."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.parser = httptools.HttpRequestParser(self)
        self.open = True
        self.queue: list[Request] = []
        self.busy = False
        self.writable = asyncio.Event()
        self.writable.set()
        self.upstream: UpstreamConnection | None = None
        """The target connection whose response is being relayed (for flow control)."""
        self.close_after = False
        """Set when a response's end is the connection's end."""
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._refused = False
        self._counted = False
        """Whether the size rule already counted this request (count mode)."""
        self._idle: asyncio.TimerHandle | None = None
        self._last_data = 0.0
        """When data last came (the event loop's clock)."""
        self._serving: asyncio.Future[None] | None = None
        """The task answering queued requests (held, so it is not collected mid-way)."""

    # --- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        loop = asyncio.get_running_loop()
        self._last_data = loop.time()
        self._idle = loop.call_later(CLIENT_IDLE_SECONDS, self._idle_out)

    def _idle_out(self) -> None:
        """Close the connection if nothing came for ``CLIENT_IDLE_SECONDS``; otherwise look
        again when that time will have passed since the last data (one timer a connection,
        not one a request)."""
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self._last_data
        if self.busy or self.queue or quiet < CLIENT_IDLE_SECONDS:
            left = CLIENT_IDLE_SECONDS - quiet
            wait = left if left > 0 else CLIENT_IDLE_SECONDS
            self._idle = loop.call_later(wait, self._idle_out)
            return
        self.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._last_data = asyncio.get_running_loop().time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrades (WebSocket) are not supported here")
        except httptools.HttpParserError as error:
            self._refuse(400, f"the request is not valid HTTP/1.1: {error}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.writable.set()
        if self._idle is not None:
            self._idle.cancel()

    def pause_writing(self) -> None:
        self.writable.clear()
        if self.upstream is not None:
            self.upstream.pause()

    def resume_writing(self) -> None:
        self.writable.set()
        if self.upstream is not None:
            self.upstream.resume()

    # --- httptools callbacks --------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url, self._headers, self._body, self._size = b"", [], [], 0
        self._counted = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        headers = {k.lower(): v for k, v in self._headers}
        waf = self.listener.waf
        declared = headers.get(b"content-length")
        if waf is not None and declared is not None and declared.isdigit():
            verdict = waf.declared_too_large(int(declared))
            if verdict is not None:
                self._oversized(verdict)
                if verdict.blocked:
                    return
        expect = headers.get(b"expect")
        if expect is not None and expect.lower() == b"100-continue":
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._size += len(body)
        waf = self.listener.waf
        if waf is not None and self._size > waf.policy.max_body_bytes and not self._counted:
            verdict = waf.declared_too_large(self._size)
            if verdict is not None:
                self._oversized(verdict)
                if verdict.blocked:
                    return
        self._body.append(body)

    def _oversized(self, verdict: Verdict) -> None:
        """The size rule's finding on a body not yet read in full: refused now when it
        blocks, else counted once and read on."""
        self.listener.log_finding(self.peer, self.parser.get_method(), self._url, verdict)
        self._counted = True
        if verdict.blocked:
            self._refuse(verdict.status, verdict.reason)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        request = Request(
            method=self.parser.get_method(),
            target=self._url,
            headers=self._headers,
            body=b"".join(self._body),
            keep_alive=self.parser.should_keep_alive(),
        )
        self.queue.append(request)
        if not self.busy:
            self.busy = True
            self._serving = asyncio.ensure_future(self._serve())

    # --- answering ------------------------------------------------------------------------------

    async def _serve(self) -> None:
        try:
            while self.queue and self.open:
                request = self.queue.pop(0)
                again = await self.listener.handle(self, request)
                if not again:
                    self.close()
                    return
        except Exception:  # a bug must cost one connection, not the balancer
            log.exception("the balancer failed on a request")
            self.abort()
        finally:
            self.busy = False

    def write(self, data: bytes) -> None:
        if self.open and self.transport is not None:
            self.transport.write(data)

    def problem(self, status: int, detail: str, request_id: bytes, keep_alive: bool) -> int:
        """Answer with the balancer's own problem+json; returns the status."""
        body = json.dumps(
            {
                "type": "about:blank",
                "title": REASONS.get(status, "Error"),
                "status": status,
                "detail": detail,
            }
        ).encode()
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
            "Content-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
        ).encode()
        self.write(head + b"X-Request-Id: " + request_id + b"\r\n\r\n" + body)
        self.listener.stats.local[status] = self.listener.stats.local.get(status, 0) + 1
        return status

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a request that will not be read to its end, then close."""
        self._refused = True
        self.problem(status, detail, new_request_id(), keep_alive=False)
        self.listener.stats.responded(status)
        self.close()

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.abort()


class UpstreamConnection(asyncio.Protocol):
    """A connection to one target; carries one exchange at a time, relaying the response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.usable = False
        self.status = 0
        self._done: asyncio.Future[bool] | None = None
        self._client: ClientConnection | None = None
        self._head_only = False
        self._chunked = False
        self._started = False
        self._reused = False
        self._headers: list[bytes] = []
        self._request_id = b""
        self._client_keep_alive = True
        self._has_length = False
        self._until_close = False
        self._paused = False
        self._held: list[bytes] = []
        """The response so far, not yet sent on (see the module on buffering)."""
        self._held_bytes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.usable = True

    def send(
        self,
        data: bytes,
        client: ClientConnection,
        request: Request,
        request_id: bytes,
        reused: bool,
    ) -> asyncio.Future[bool]:
        """Write a request; the future ends with whether the connection can be reused."""
        assert self.transport is not None
        self._done = asyncio.get_running_loop().create_future()
        self._client = client
        self._head_only = request.method == b"HEAD"
        self._client_keep_alive = request.keep_alive
        self._request_id = request_id
        self._reused = reused
        self._started = False
        self._chunked = False
        self._has_length = False
        self._until_close = False
        self._headers = []
        self._held = []
        self._held_bytes = 0
        self.usable = False
        client.upstream = self
        self.transport.write(data)
        return self._done

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail()

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        if self._until_close and self._done is not None:
            self._send_held()  # its end is the connection's end: it is complete
            self._finish(False)
        self._fail()

    def pause(self) -> None:
        if self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and self._paused:
            self._paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        self.usable = False
        if self.transport is not None:
            self.transport.close()

    # --- httptools callbacks --------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        lower = name.lower()
        if lower == b"transfer-encoding":
            self._chunked = b"chunked" in value.lower()
            return
        if lower == b"content-length":
            self._has_length = True
        if lower not in HOP_BY_HOP and lower != b"x-request-id":
            self._headers.append(name + b": " + value)

    def on_headers_complete(self) -> None:
        assert self._client is not None
        self.status = self.parser.get_status_code()
        keep = self._client_keep_alive
        lines = [b"HTTP/1.1 %d %s" % (self.status, PHRASES.get(self.status, b"")), *self._headers]
        no_body = self.status in (204, 304) or 100 <= self.status < 200
        if not (self._chunked or self._has_length or no_body or self._head_only):
            # The body ends when the target closes: so must the client's connection.
            self._until_close = True
            keep = False
            self._client.close_after = True
        if self._chunked and not self._head_only:
            lines.append(b"Transfer-Encoding: chunked")
        lines.append(b"X-Request-Id: " + self._request_id)
        lines.append(b"Connection: keep-alive" if keep else b"Connection: close")
        self._hold(b"\r\n".join(lines) + b"\r\n\r\n")
        if self._head_only:
            # A response to HEAD has no body whatever its Content-Length says, and the parser
            # cannot know that: end here and do not reuse the connection.
            self._send_held()
            self._finish(False)

    def on_body(self, body: bytes) -> None:
        if self._client is None:
            return
        if self._chunked:
            self._hold(b"%x\r\n" % len(body) + body + b"\r\n")
        else:
            self._hold(body)

    def on_message_complete(self) -> None:
        if self._client is not None and self._chunked and not self._head_only:
            self._hold(b"0\r\n\r\n")
        self._send_held()
        self._finish(self.parser.should_keep_alive())

    def _hold(self, data: bytes) -> None:
        """Keep ``data`` back while the response fits the buffer; past it, stream."""
        if self._started:
            assert self._client is not None
            self._client.write(data)
            return
        self._held.append(data)
        self._held_bytes += len(data)
        if self._held_bytes > RESPONSE_BUFFER_BYTES:
            self._send_held()

    def _send_held(self) -> None:
        if self._held and self._client is not None:
            self._client.write(b"".join(self._held))
            self._started = True
        self._held, self._held_bytes = [], 0

    # --- ending ---------------------------------------------------------------------------------

    def _finish(self, keep_alive: bool) -> None:
        done, client = self._done, self._client
        self._done, self._client = None, None
        if client is not None and client.upstream is self:
            client.upstream = None
        self.resume()  # a connection goes back to its pool reading
        if done is not None and not done.done():
            self.usable = keep_alive and self.transport is not None
            done.set_result(keep_alive)

    def _fail(self) -> None:
        done, client = self._done, self._client
        self._done, self._client = None, None
        if client is not None and client.upstream is self:
            client.upstream = None
        if done is not None and not done.done():
            done.set_exception(UpstreamDropped(self._started, self._reused))
        self.close()
