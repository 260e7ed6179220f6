"""A balancer run in-process, in a thread with its own event loop, with helpers to register
targets as the orchestrator does (by rewriting the targets file)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlab.runtime.balancer.server import Balancer, BalancerSpec, ListenerSpec
from archlab.runtime.balancer.targets import HealthCheckPolicy
from archlab.runtime.balancer.waf import WafPolicy
from tests.balancer.backends import Backend

FAST_CHECKS = HealthCheckPolicy(interval_s=0.1, timeout_s=0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not become true in time")
        time.sleep(0.02)


@dataclass
class Running:
    balancer: Balancer
    url: str
    targets_file: Path

    def register(self, group: str, backends: list[Backend], draining: tuple[str, ...] = ()) -> None:
        entries = [
            {
                "id": b.name,
                "host": "127.0.0.1",
                "port": b.port,
                "zone": f"zone-{'ab'[i % 2]}",
                "state": "draining" if b.name in draining else "active",
            }
            for i, b in enumerate(backends)
        ]
        scratch = self.targets_file.with_suffix(".tmp")
        scratch.write_text(json.dumps({"target_groups": {group: entries}}))
        scratch.replace(self.targets_file)
        wanted = {b.name for b in backends}
        eventually(lambda: set(self.balancer.groups[group].targets) == wanted)

    def health(self, group: str = "web") -> dict[str, str]:
        return {t.id: t.state()["health"] for t in self.balancer.groups[group].targets.values()}

    def wait_healthy(self, group: str, count: int) -> None:
        eventually(lambda: list(self.health(group).values()).count("healthy") == count)


@contextmanager
def balancer(
    tmp_path: Path,
    waf: WafPolicy | None = None,
    routes: tuple[tuple[str, str], ...] = (),
    groups: tuple[str, ...] = ("web",),
    checks: HealthCheckPolicy = FAST_CHECKS,
) -> Iterator[Running]:
    port = free_port()
    spec = BalancerSpec(
        name="lb",
        listeners=(ListenerSpec("public", "127.0.0.1", port, groups[0], routes, waf),),
        groups=tuple((name, checks) for name in groups),
        targets_file=str(tmp_path / "lb-targets.json"),
        status_file=str(tmp_path / "lb.json"),
        log_dir=str(tmp_path / "logs"),
    )
    loop = asyncio.new_event_loop()
    instance = Balancer(spec)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(instance.start(), loop).result(5)
    try:
        yield Running(instance, f"http://127.0.0.1:{port}", Path(spec.targets_file))
    finally:
        asyncio.run_coroutine_threadsafe(instance.stop(drain_s=1), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def status(running: Running) -> dict[str, Any]:
    running.balancer.write_status()
    return json.loads(Path(running.balancer.spec.status_file).read_text())
