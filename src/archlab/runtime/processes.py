"""How the runtime starts its processes: from a fork server that has already imported archlab.

A spawned Python process spends most of a second importing archlab, pydantic and the routing
engine before it can poll; with several pools starting at once on two cores that is seconds
before ``archlab up`` is ready. The fork server imports them once, then forks each worker from
that clean, single-threaded process (never from the supervisor, whose threads and open
database connections a fork would copy). A forked child inherits the fork server's
environment, not the caller's, so each process is given the caller's environment as of its
start.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing import forkserver
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

log = logging.getLogger(__name__)

# glibc gives each thread that allocates its own malloc arena, and libvips' threads make many:
# memory freed in one arena is not reused by the next image, so a worker making renditions grew
# from 350 to 780 MB over five sources. Two arenas hold it near 500 MB. The fork server reads
# this when it starts, and its children inherit its malloc.
os.environ.setdefault("MALLOC_ARENA_MAX", "2")
CONTEXT = multiprocessing.get_context("forkserver")
PRELOAD = ["archlab.runtime.workers", "archlab.runtime.functions", "archlab.engines.sqlite"]
CONTEXT.set_forkserver_preload(PRELOAD)


_wanted = list(PRELOAD)
_preloaded: list[str] | None = None
"""What the running fork server imported (None: none started since the last stop)."""


def preload(modules: list[str]) -> None:
    """Have the fork server import ``modules`` too (the apps and handlers a run will start),
    so that each process forked from it starts with them imported: an application tier
    importing FastAPI, SQLAlchemy and its models takes two to three seconds to import on its
    own, seconds an instance replacing a dead one must not spend. Modules must not open
    connections or start threads on import (children would share them). A module that fails
    to import there is skipped (the child imports it, and reports the error, itself).

    A fork server already running without them (an earlier run in this process: the tests)
    is stopped, when none of its children lives, so that the next process starts a new one
    that has them; with children alive it is kept, and they import what they need."""
    global _wanted, _preloaded
    _wanted = list(dict.fromkeys(PRELOAD + modules))
    CONTEXT.set_forkserver_preload(_wanted)
    stale = _preloaded is not None and not set(_wanted) <= set(_preloaded)
    if stale and not multiprocessing.active_children():
        forkserver._forkserver._stop()  # type: ignore[attr-defined]  # the only way there is
        _preloaded = None


def start_process(target: Callable[..., None], args: tuple[Any, ...], name: str) -> BaseProcess:
    """Start ``target(*args)`` in a new process that sees this process's environment and
    ends if this process dies."""
    global _preloaded
    if _preloaded is None:  # the first start since the last stop launches the fork server
        _preloaded = _wanted
    process = CONTEXT.Process(
        target=_with_environment,
        args=(dict(os.environ), os.getpid(), target, *args),
        name=name,
        daemon=True,
    )
    process.start()
    return process


def _with_environment(
    environment: dict[str, str], owner: int, target: Callable[..., None], *args: Any
) -> None:
    os.environ.clear()
    os.environ.update(environment)
    threading.Thread(target=_end_with, args=(owner,), name="end-with-owner", daemon=True).start()
    target(*args)


def _end_with(owner: int) -> None:
    """Exit once the process that started this one is gone (SIGKILLed, say): its children are
    the fork server's, so nothing else would stop them, and an orphaned instance would keep
    its port and its work."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            log.warning("the supervisor (pid %s) is gone; exiting", owner)
            os._exit(1)
        except PermissionError:
            continue  # alive, as another user: cannot be ours, but do not guess


class Supervised:
    """A process the supervisor keeps alive: started with a stop event as its last argument,
    restarted when it dies, stopped on request (asked first, killed if it does not stop)."""

    kind = "process"

    def __init__(self, name: str, target: Callable[..., None], args: tuple[Any, ...]) -> None:
        self.name = name
        self._target = target
        self._args = args
        self.process: BaseProcess | None = None
        self.stop_event: Event | None = None
        self.restarts = 0

    def start(self) -> None:
        self.stop_event = CONTEXT.Event()
        self.process = start_process(
            self._target, (*self._args, self.stop_event), f"archlab-{self.kind}-{self.name}"
        )

    def restart_if_dead(self) -> None:
        assert self.process is not None
        if self.process.is_alive():
            return
        log.warning("%s %s exited with %s; restarting", self.kind, self.name, self.process.exitcode)
        self.restarts += 1
        self.start()

    def stop(self, timeout: float) -> None:
        if self.stop_event is None or self.process is None:
            return
        self.stop_event.set()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def state(self) -> dict[str, Any]:
        assert self.process is not None
        return {
            "pid": self.process.pid,
            "alive": self.process.is_alive(),
            "restarts": self.restarts,
        }
