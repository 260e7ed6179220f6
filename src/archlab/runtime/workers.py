"""Worker pools: OS processes consuming one queue with one handler, restarted when they crash,
scaled by an :class:`~archlab.runtime.autoscaling.Autoscaler`.

A worker receives, calls the handler with each message, and deletes the message when the handler
returns. A handler that raises leaves its message to come back after the visibility timeout (and
to reach the dead-letter queue after maxReceiveCount receives). Asked to stop, a worker finishes
the message in hand and releases the rest of its batch at once (visibility 0); killed, it loses
nothing: what it held becomes visible again when the visibility timeout ends.

Workers ignore SIGINT, so a Ctrl-C in the terminal reaches only the supervisor, which stops them
in order.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any

from archlab.blocks import Queue
from archlab.engines import connect
from archlab.runtime.autoscaling import Autoscaler, ScalingDecision
from archlab.runtime.handlers import load_handler
from archlab.runtime.processes import CONTEXT, start_process

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs; plain values, so that it crosses into another process."""

    pool: str
    handler: str
    queue: str
    messaging_url: str
    batch_size: int = 1
    wait_seconds: int = 1


def run_worker(
    spec: WorkerSpec,
    stop: Event,
    busy: Synchronized[int],
    processed: Synchronized[int],
    ready: Event,
) -> None:
    """A worker process's main loop; ``ready`` is set once it is about to poll."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {spec.pool} %(message)s")
    handler = load_handler(spec.handler)
    queue = Queue(connect(spec.messaging_url), spec.queue)
    ready.set()
    while not stop.is_set():
        messages = queue.receive(spec.batch_size, wait_seconds=spec.wait_seconds)
        busy.value = 1 if messages else 0
        for position, message in enumerate(messages):
            if stop.is_set():
                for unprocessed in messages[position:]:
                    queue.change_visibility(unprocessed.receipt_handle, 0)
                break
            try:
                handler(message)
            except Exception:  # the handler's failure: the message comes back later
                log.exception("message %s failed; it will be received again", message.message_id)
                continue
            queue.delete(message.receipt_handle)
            with processed.get_lock():
                processed.value += 1
        busy.value = 0


@dataclass
class Worker:
    process: BaseProcess
    stop: Event
    busy: Synchronized[int]
    processed: Synchronized[int]
    ready: Event
    zone: str | None
    started: float = field(default_factory=time.time)
    restarts: int = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def state(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "zone": self.zone,
            "busy": bool(self.busy.value),
            "processed": self.processed.value,
            "started": self.started,
            "alive": self.process.is_alive(),
            "ready": self.ready.is_set(),
        }


class WorkerPool:
    """The processes of one instance group, spread over its zones."""

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        min_size: int,
        max_size: int,
        zones: tuple[str, ...] = (),
        autoscaler: Autoscaler | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.pool
        self.min_size = min_size
        self.max_size = max_size
        self.zones = zones
        self.autoscaler = autoscaler
        self.workers: list[Worker] = []
        self.retiring: list[Worker] = []
        """Workers asked to stop by scale-in, finishing their message."""
        self.decisions: list[ScalingDecision] = []
        self.restarts = 0
        self.zones_down: set[str] = set()
        """Zones taken down (``archlab chaos kill-zone``): no worker is started there."""

    def start(self) -> None:
        self.add(self.min_size)

    def wait_ready(self, deadline: float) -> bool:
        """Wait until every worker polls (or one died, or the monotonic deadline passed)."""
        for worker in self.workers:
            while not worker.ready.wait(0.05):
                if not worker.process.is_alive() or time.monotonic() > deadline:
                    return False
        return True

    def add(self, count: int) -> None:
        for _ in range(count):
            self.workers.append(self._spawn(self._next_zone()))

    def _next_zone(self) -> str | None:
        """The zone up with the fewest workers: a pool stays balanced as it grows."""
        if not self.zones:
            return None
        up = [zone for zone in self.zones if zone not in self.zones_down] or list(self.zones)
        return min(up, key=lambda zone: sum(w.zone == zone for w in self.workers))

    def _spawn(self, zone: str | None) -> Worker:
        stop = CONTEXT.Event()
        busy = CONTEXT.Value("i", 0)
        processed = CONTEXT.Value("q", 0)
        ready = CONTEXT.Event()
        process = start_process(
            run_worker, (self.spec, stop, busy, processed, ready), f"archlab-{self.name}"
        )
        return Worker(process, stop, busy, processed, ready, zone)

    def remove_idle(self, count: int) -> int:
        """Stop up to ``count`` idle workers (newest first); returns how many were asked."""
        removed = 0
        for worker in reversed(list(self.workers)):
            if removed == count:
                break
            if not worker.busy.value and worker.process.is_alive():
                worker.stop.set()
                self.workers.remove(worker)
                self.retiring.append(worker)
                removed += 1
        return removed

    def reap(self) -> list[Worker]:
        """Replace workers that died without being asked to stop; returns the dead ones."""
        for worker in list(self.retiring):
            if not worker.process.is_alive():
                worker.process.join()
                self.retiring.remove(worker)
        dead = [w for w in self.workers if not w.process.is_alive()]
        for worker in dead:
            self.workers.remove(worker)
            log.warning(
                "%s: worker %s exited with %s; starting a replacement",
                self.name,
                worker.pid,
                worker.process.exitcode,
            )
            zone = worker.zone if worker.zone not in self.zones_down else self._next_zone()
            replacement = self._spawn(zone)
            replacement.restarts = worker.restarts + 1
            self.workers.append(replacement)
            self.restarts += 1
        return dead

    def scale(self, visible: int) -> ScalingDecision | None:
        """One autoscaling step from the queue's visible messages."""
        if self.autoscaler is None:
            return None
        idle = sum(1 for w in self.workers if not w.busy.value)
        decision = self.autoscaler.decide(visible, len(self.workers), idle)
        if decision.change > 0:
            self.add(decision.change)
        elif decision.change < 0:
            self.remove_idle(-decision.change)
        if decision.action != "hold":
            log.info("scaling %s", decision.describe())
            self.decisions.append(decision)
            del self.decisions[:-50]
        return decision

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop, wait for them to finish their message, then kill the rest."""
        everyone = self.workers + self.retiring
        for worker in everyone:
            worker.stop.set()
        deadline = time.monotonic() + timeout
        for worker in everyone:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.warning("%s: worker %s did not stop in time; killing it", self.name, worker.pid)
                worker.process.kill()
                worker.process.join()
        self.workers.clear()
        self.retiring.clear()

    def state(self) -> dict[str, Any]:
        return {
            "pool": self.name,
            "queue": self.spec.queue,
            "min": self.min_size,
            "max": self.max_size,
            "restarts": self.restarts,
            "workers": [w.state() for w in self.workers],
            "decisions": [d.__dict__ for d in self.decisions[-10:]],
        }
