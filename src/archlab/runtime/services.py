"""HTTP services: a topology's ``api`` nodes, each an ASGI app served by uvicorn in a process of
its own, so that killing it is real and the supervisor restarts it like any worker.

An api node names an app factory (``package.module:callable`` returning an ASGI app), built in
the service's process, with ARCHLAB_INSTANCE_ID set to the service's (or instance's) name. The
supervisor waits for the port to accept connections before it calls the system ready, and
lists the service's URL under ``endpoints`` by the node's id.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any

from archlab.runtime.handlers import load_handler
from archlab.runtime.processes import Supervised

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


def port_free(port: int) -> bool:
    """Whether a service could listen on 127.0.0.1:``port`` now (with SO_REUSEADDR, as uvicorn
    binds: connections lingering in TIME_WAIT do not keep the port taken)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    app: str
    """The factory: ``package.module:callable`` returning an ASGI app."""
    port: int
    environment: tuple[tuple[str, str], ...] = ()
    """Set in the process before the app is built."""

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


QUIET_LOGGERS = ("httpx", "httpcore", "alembic")


def run_service(spec: ServiceSpec, stop: Event) -> None:
    """A service process: uvicorn until ``stop`` is set (SIGTERM sets it too)."""
    import uvicorn  # here: only service processes need it

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {spec.name} %(message)s")
    for chatty in QUIET_LOGGERS:  # a line per outgoing request, or per migration plugin
        logging.getLogger(chatty).setLevel(logging.WARNING)
    os.environ.update(dict(spec.environment))
    os.environ["ARCHLAB_INSTANCE_ID"] = spec.name  # so an app can say who answered
    app = load_handler(spec.app)()
    config = uvicorn.Config(app, host=HOST, port=spec.port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def exit_when_stopped() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=exit_when_stopped, daemon=True).start()
    server.run()


class Service(Supervised):
    """An api node's process."""

    kind = "api"

    def __init__(self, spec: ServiceSpec, system: str) -> None:
        super().__init__(spec.name, run_service, (spec,))
        self.spec = spec
        self.system = system

    def wait_ready(self, deadline: float) -> bool:
        """Wait until the port accepts connections (or the process died, or the deadline)."""
        while time.monotonic() < deadline:
            assert self.process is not None
            if not self.process.is_alive():
                return False
            with socket.socket() as probe:
                probe.settimeout(0.2)
                if probe.connect_ex((HOST, self.spec.port)) == 0:
                    return True
            time.sleep(0.05)
        return False

    def state(self) -> dict[str, Any]:
        return {
            "service": self.spec.name,
            "system": self.system,
            "url": self.spec.url,
            **super().state(),
        }
