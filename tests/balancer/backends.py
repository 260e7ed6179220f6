"""Scripted HTTP targets for the balancer's tests: small asyncio servers in a thread whose
paths choose a behaviour (answer, echo, stream, stall, drop before or in the middle of a
response), counting the connections and requests they get."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httptools


@dataclass
class Backend:
    name: str
    port: int = 0
    healthy: bool = True
    connections: int = 0
    requests: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    server: asyncio.Server | None = None
    transports: list[asyncio.Transport] = field(default_factory=list)

    def kill(self) -> None:
        """As a killed process: stop listening, and reset every connection it has."""

        async def die() -> None:
            assert self.server is not None
            self.server.close()
            for transport in self.transports:
                transport.abort()

        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(die(), self.loop).result(5)


class _Connection(asyncio.Protocol):
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.backend.connections += 1
        self.backend.transports.append(transport)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", [], b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode(), value.decode()))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode()
        path = self.url.decode()
        self.backend.requests.append(f"{method} {path}")
        self.backend.bodies.append(self.body)
        self.answering = asyncio.ensure_future(self.answer(method, path))

    def respond(self, status: int, body: bytes, extra: str = "") -> None:
        assert self.transport is not None
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        self.transport.write(head.encode() + body)

    async def answer(self, method: str, path: str) -> None:
        assert self.transport is not None
        route, _, query = path.partition("?")
        if route == "/health":
            self.respond(200 if self.backend.healthy else 503, b"ok")
        elif route == "/echo":
            body = json.dumps(
                {
                    "backend": self.backend.name,
                    "method": method,
                    "path": path,
                    "headers": self.headers,
                    "body": self.body.decode("latin-1"),
                }
            ).encode()
            self.respond(200, body, "Content-Type: application/json\r\n")
        elif route == "/chunked":
            self.transport.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in (b"one,", b"two,", b"three"):
                self.transport.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await asyncio.sleep(0.01)
            self.transport.write(b"0\r\n\r\n")
        elif route == "/slow":
            await asyncio.sleep(int(query.removeprefix("ms=") or 100) / 1000)
            self.respond(200, self.backend.name.encode())
        elif route == "/drop":
            self.transport.abort()
        elif route == "/drop-mid":
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            await asyncio.sleep(0.01)
            self.transport.abort()
        elif route == "/big-drop":
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n")
            self.transport.write(b"x" * 1_000_000)
            await asyncio.sleep(0.05)
            self.transport.abort()
        elif route == "/flaky-mid":  # cut short on the first backend only
            if self.backend.name == "a":
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
                await asyncio.sleep(0.01)
                self.transport.abort()
            else:
                self.respond(200, b"whole")
        elif route == "/big":
            self.respond(200, b"x" * 2_000_000)
        elif route == "/no-content":
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        elif route == "/until-close":
            self.transport.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end")
            self.transport.close()
        else:
            self.respond(200, f"hello from {self.backend.name}".encode())


@contextmanager
def running(*names: str) -> Iterator[list[Backend]]:
    """Backends on free loopback ports, served from one background event loop."""
    backends = [Backend(name) for name in names]
    loop = asyncio.new_event_loop()
    servers: list[asyncio.Server] = []

    async def start() -> None:
        for backend in backends:
            server = await loop.create_server(lambda b=backend: _Connection(b), "127.0.0.1", 0)
            backend.port = server.sockets[0].getsockname()[1]
            backend.loop, backend.server = loop, server
            servers.append(server)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield backends
    finally:

        async def close() -> None:
            for server in servers:
                server.close()

        asyncio.run_coroutine_threadsafe(close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
