"""A load balancer process: its listeners, target groups, health checks, and the files through
which it talks to the orchestrator.

- **Targets file** (``spec.targets_file``, written by the supervisor): ``{"target_groups":
  {"NAME": [{"id", "host", "port", "zone", "state": "active" | "draining"}]}}``. The balancer
  reads it again whenever its modification time changes (checked five times a second), so
  registering, draining and deregistering take effect within a fifth of a second.
- **Status file** (``spec.status_file``, written by the balancer twice a second, atomically):
  per target group each target's health, outstanding and total requests; per listener its
  request, retry and response counts; the WAF's counters. The supervisor reads it to replace
  unhealthy instances, finish draining and autoscale on requests per target; ``archlab status``
  and the console show it.
- **Logs** under ``spec.log_dir``: ``NAME-access.log`` (one JSON line per request: client,
  method, target, status, milliseconds, which target answered, attempts, request id) and
  ``NAME-waf.log`` (one JSON line per WAF finding), written in batches.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from archlab.runtime.balancer.proxy import Listener, Route
from archlab.runtime.balancer.targets import HealthCheckPolicy, Target, TargetGroup
from archlab.runtime.balancer.waf import Waf, WafPolicy

log = logging.getLogger(__name__)
WATCH_S = 0.2
STATUS_S = 0.5


@dataclass(frozen=True)
class ListenerSpec:
    name: str
    host: str
    port: int
    default_group: str
    routes: tuple[tuple[str, str], ...] = ()
    """(path prefix, target group): the longest matching prefix wins, else the default."""
    waf: WafPolicy | None = None


@dataclass(frozen=True)
class BalancerSpec:
    name: str
    listeners: tuple[ListenerSpec, ...]
    groups: tuple[tuple[str, HealthCheckPolicy], ...]
    targets_file: str
    status_file: str
    log_dir: str
    access_log: bool = True


_compact = json.JSONEncoder(separators=(",", ":")).encode
"""``json.dumps`` with separators makes an encoder each call: a line per request pays for it."""


class LogWriter:
    """JSON lines kept in memory and appended to a file in batches."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending: list[str] = []

    def __call__(self, entry: dict[str, Any]) -> None:
        self.pending.append(_compact(entry))

    def flush(self) -> None:
        if not self.pending:
            return
        lines, self.pending = self.pending, []
        with self.path.open("a", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")


@dataclass
class Balancer:
    """The balancer's state inside its event loop (also run in-process by tests)."""

    spec: BalancerSpec
    groups: dict[str, TargetGroup] = field(init=False)
    listeners: list[Listener] = field(init=False)
    servers: list[asyncio.Server] = field(default_factory=list)
    _targets_mtime: float | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.groups = {name: TargetGroup(name, policy) for name, policy in self.spec.groups}
        directory = Path(self.spec.log_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.logs: list[LogWriter] = []
        self.listeners = []
        for listener in self.spec.listeners:
            waf_log = LogWriter(directory / f"{self.spec.name}-waf.log")
            access = LogWriter(directory / f"{self.spec.name}-access.log")
            self.logs += [waf_log, access]
            self.listeners.append(
                Listener(
                    listener.name,
                    listener.port,
                    [Route(prefix, self.groups[group]) for prefix, group in listener.routes],
                    self.groups[listener.default_group],
                    Waf(listener.waf) if listener.waf else None,
                    access_log=access if self.spec.access_log else None,
                    waf_log=waf_log,
                )
            )

    async def start(self) -> None:
        self.read_targets()
        loop = asyncio.get_running_loop()
        for spec, listener in zip(self.spec.listeners, self.listeners, strict=True):
            server = await loop.create_server(
                listener.protocol, spec.host, spec.port, reuse_address=True, backlog=2048
            )
            self.servers.append(server)
        self._tasks = [
            asyncio.ensure_future(self._watch_targets()),
            asyncio.ensure_future(self._report()),
            *(asyncio.ensure_future(self._check(group)) for group in self.groups.values()),
        ]

    async def stop(self, drain_s: float = 5.0) -> None:
        """Stop accepting, let requests in flight finish (up to ``drain_s``), then end."""
        for server in self.servers:
            server.close()
        deadline = time.monotonic() + drain_s
        while any(listener.in_flight for listener in self.listeners):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        for task in self._tasks:
            task.cancel()
        for listener in self.listeners:
            listener.pools.close()
        self.write_status()

    # --- the orchestrator's side -----------------------------------------------------------------

    def read_targets(self) -> None:
        path = Path(self.spec.targets_file)
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._targets_mtime:
                return
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            log.warning("%s: cannot read %s: %s", self.spec.name, path, error)
            return
        self._targets_mtime = mtime
        for name, entries in document.get("target_groups", {}).items():
            if name in self.groups:
                self.groups[name].register(entries)

    def status(self) -> dict[str, Any]:
        return {
            "balancer": self.spec.name,
            "pid": os.getpid(),
            "time": time.time(),
            "listeners": [
                {
                    "name": spec.name,
                    "url": f"http://{spec.host}:{spec.port}",
                    "requests": listener.stats.requests,
                    "in_flight": listener.in_flight,
                    "retries": listener.stats.retries,
                    "responses": listener.stats.responses,
                    "local_responses": {str(k): v for k, v in listener.stats.local.items()},
                    "waf": _waf_state(listener.waf),
                }
                for spec, listener in zip(self.spec.listeners, self.listeners, strict=True)
            ],
            "target_groups": {name: group.state() for name, group in self.groups.items()},
        }

    def write_status(self) -> None:
        target = Path(self.spec.status_file)
        scratch = target.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.status()), encoding="utf-8")
        scratch.replace(target)
        for writer in self.logs:
            writer.flush()

    async def _watch_targets(self) -> None:
        while True:
            await asyncio.sleep(WATCH_S)
            self.read_targets()

    async def _report(self) -> None:
        while True:
            self.write_status()
            await asyncio.sleep(STATUS_S)

    # --- health checks -------------------------------------------------------------------------

    async def _check(self, group: TargetGroup) -> None:
        policy = group.health_check
        while True:
            targets = list(group.targets.values())
            results = await asyncio.gather(*(self._probe(t, policy) for t in targets))
            for target, (passed, reason) in zip(targets, results, strict=True):
                if group.targets.get(target.id) is target:
                    group.checked(target, passed, reason)
            await asyncio.sleep(policy.interval_s)

    async def _probe(self, target: Target, policy: HealthCheckPolicy) -> tuple[bool, str]:
        """One check: ``GET path`` on a new connection; passed on a 2xx or 3xx in time."""
        writer = None
        try:
            async with asyncio.timeout(policy.timeout_s):
                reader, writer = await asyncio.open_connection(target.host, target.port)
                writer.write(
                    f"GET {policy.path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
                    "User-Agent: archlab-health-checker\r\nConnection: close\r\n\r\n".encode()
                )
                line = await reader.readline()
        except TimeoutError:
            return False, f"no answer to {policy.path} within {policy.timeout_s:g} s"
        except OSError as error:
            return False, f"cannot connect: {error.strerror or error}"
        finally:
            if writer is not None:
                writer.close()
        parts = line.split()
        status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
        if 200 <= status < 400:
            return True, f"{policy.path} answered {status}"
        return False, f"{policy.path} answered {status or 'nothing'}"


def _waf_state(waf: Waf | None) -> dict[str, Any] | None:
    if waf is None:
        return None
    return {
        "mode": waf.policy.mode,
        "allowed": waf.counters.allowed,
        "blocked": dict(waf.counters.blocked),
        "counted": dict(waf.counters.counted),
    }


def run_balancer(spec: BalancerSpec, stop: Event) -> None:
    """A balancer process: serve until ``stop`` is set (SIGTERM sets it too)."""
    import uvloop  # here: only the balancer's process needs it

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {spec.name} %(message)s")

    async def main() -> None:
        balancer = Balancer(spec)
        await balancer.start()
        log.info(
            "%s: listening on %s",
            spec.name,
            ", ".join(f"{listener.host}:{listener.port}" for listener in spec.listeners),
        )
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=lambda: (stop.wait(), loop.call_soon_threadsafe(stopped.set)), daemon=True
        ).start()
        await stopped.wait()
        await balancer.stop()

    uvloop.run(main())
