"""HTTP instances and the auto scaling groups that keep them: the orchestrator's fleet.

An **instance** is one OS process serving an instance group's ASGI app (uvicorn, as api nodes
are served) on a loopback port of its own, placed in one zone. The load balancers that route to
its group learn of it from the targets files the supervisor writes, check its health and report
it back in their status files.

An **auto scaling group** keeps ``desired`` instances running, spread evenly over the zones
that are up, as an EC2 Auto Scaling group with ELB health checks does:

- an instance whose process died is replaced at once; one the load balancers report unhealthy
  after its grace period is terminated and replaced;
- nothing is launched into a zone that is down (``archlab chaos kill-zone``): its capacity
  comes back in the other zones, and returns when the zone does (rebalancing launches in the
  emptier zone first, then drains one from the fuller, as AZRebalance does);
- with ``request_scaling``, desired follows the requests per target the balancers count
  (target tracking on RequestCountPerTarget), with cooldowns;
- scale-in and rebalancing **drain** an instance first: it is deregistered (the balancers send
  it nothing new), and stopped once it has no request in flight or its deregistration delay
  has passed.

Every decision is logged and kept (the last fifty) for ``archlab status`` and the console.
"""

from __future__ import annotations

import logging
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from archlab.runtime.services import HOST, Service, ServiceSpec
from archlab.topology import HealthCheck, RequestTracking

log = logging.getLogger(__name__)
Lifecycle = Literal["in-service", "draining"]


class InstanceProcess(Service):
    """An HTTP instance's process: an api service by another name."""

    kind = "instance"


def free_port() -> int:
    """A loopback port free now (the instance binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Instance:
    id: str
    zone: str
    service: InstanceProcess
    launched: float
    lifecycle: Lifecycle = "in-service"
    draining_since: float | None = None
    health: str = "initial"
    """What the balancers last said (the worst of them): initial, healthy or unhealthy."""
    outstanding: int = 0
    requests: int = 0

    @property
    def port(self) -> int:
        return self.service.spec.port

    @property
    def pid(self) -> int | None:
        return self.service.process.pid if self.service.process else None

    @property
    def alive(self) -> bool:
        return self.service.process is not None and self.service.process.is_alive()

    @property
    def exit_code(self) -> int | None:
        return self.service.process.exitcode if self.service.process else None

    def target(self) -> dict[str, Any]:
        """The instance as the balancers' targets file lists it."""
        state = "draining" if self.lifecycle == "draining" else "active"
        return {"id": self.id, "host": HOST, "port": self.port, "zone": self.zone, "state": state}


@dataclass(frozen=True)
class FleetEvent:
    time: float
    action: str
    """launch, replace, drain, terminate, scale-out, scale-in"""
    instance: str
    zone: str
    reason: str


@dataclass
class RequestRate:
    """Requests per second per instance, from the balancers' cumulative counters."""

    last_total: int | None = None
    last_time: float = 0.0
    rate: float = 0.0

    def update(self, total: int, now: float) -> float:
        if self.last_total is not None and now > self.last_time and total >= self.last_total:
            self.rate = (total - self.last_total) / (now - self.last_time)
        self.last_total, self.last_time = total, now
        return self.rate


@dataclass
class AutoScalingGroup:
    name: str
    """The group's engine name (``storefront-app``); instance ids start with it."""
    tier: str
    """The topology node's id (``app``)."""
    system: str
    app: str
    zones: tuple[str, ...]
    min_size: int
    max_size: int
    desired: int
    health_check: HealthCheck
    scaling: RequestTracking | None = None
    environment: tuple[tuple[str, str], ...] = ()
    clock: Callable[[], float] = time.time
    instances: list[Instance] = field(default_factory=list)
    events: list[FleetEvent] = field(default_factory=list)
    launches: int = 0
    _rate: RequestRate = field(default_factory=RequestRate)
    _last_scale_out: float = float("-inf")
    _last_scaling: float = float("-inf")

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, zones_down: set[str] | None = None) -> None:
        zones_down = zones_down or set()
        for _ in range(self.desired):
            self._launch(self._emptiest_zone(zones_down), "initial capacity")

    def wait_listening(self, deadline: float) -> bool:
        return all(i.service.wait_ready(deadline) for i in self.instances)

    def stop(self, timeout: float) -> None:
        for instance in self.instances:
            instance.service.stop(timeout)
        self.instances.clear()

    # --- one step of the supervisor ------------------------------------------------------------

    def step(self, zones_down: set[str], balancer_view: dict[str, dict[str, Any]]) -> None:
        """Replace the dead and the unhealthy, follow the zones, scale and drain.
        ``balancer_view`` is, by instance id, what the balancers report (health,
        outstanding, requests)."""
        now = self.clock()
        for instance in self.instances:
            seen = balancer_view.get(instance.id)
            if seen is not None:
                instance.health = seen["health"]
                instance.outstanding = seen["outstanding"]
                instance.requests = seen["requests"]
        self._replace_lost(now, zones_down)
        if self.scaling is not None:
            self._track_requests(now)
        self._fit(zones_down)
        self._finish_draining(now)

    def _replace_lost(self, now: float, zones_down: set[str]) -> None:
        grace = self.health_check.grace_period_s
        for instance in list(self.instances):
            if not instance.alive:
                reason = f"its process exited ({instance.exit_code})"
            elif (
                instance.lifecycle == "in-service"
                and instance.health == "unhealthy"
                and now - instance.launched >= grace
            ):
                reason = "the load balancer reports it unhealthy"
                instance.service.stop(1.0)
            else:
                continue
            self.instances.remove(instance)
            self._event("terminate", instance, reason)
            if instance.lifecycle == "draining":
                continue  # it was leaving anyway
            self._launch(self._emptiest_zone(zones_down), f"replaces {instance.id}: {reason}")

    def _track_requests(self, now: float) -> None:
        assert self.scaling is not None
        serving = [i for i in self.instances if i.lifecycle == "in-service"]
        total = sum(i.requests for i in self.instances)
        rate = self._rate.update(total, now)
        wanted = math.ceil(rate / self.scaling.requests_per_target_per_s) if rate else 0
        wanted = max(self.min_size, min(self.max_size, wanted))
        out_ready = now - self._last_scale_out >= self.scaling.scale_out_cooldown_s
        in_ready = now - self._last_scaling >= self.scaling.scale_in_cooldown_s
        if wanted > self.desired and out_ready:
            self._scaled("scale-out", wanted, rate, len(serving), now)
            self._last_scale_out = now
        elif wanted < self.desired and in_ready:
            self._scaled("scale-in", wanted, rate, len(serving), now)

    def _scaled(self, action: str, wanted: int, rate: float, serving: int, now: float) -> None:
        assert self.scaling is not None
        target = self.scaling.requests_per_target_per_s
        reason = (
            f"{rate:.0f} requests/s over {serving} instances, target {target:g} each: "
            f"desired {self.desired} -> {wanted}"
        )
        self.events.append(FleetEvent(now, action, self.name, "", reason))
        log.info("%s: %s, %s", self.name, action, reason)
        self.desired = wanted
        self._last_scaling = now

    def _fit(self, zones_down: set[str]) -> None:
        """Launch or drain until ``desired`` instances serve, evenly over the zones up.

        A surplus (after a scale-in, or the extra instance a rebalance launched) is drained
        only once every serving instance is healthy, so that capacity never dips below
        desired while a new instance starts."""
        serving = [i for i in self.instances if i.lifecycle == "in-service"]
        up = [z for z in self.zones if z not in zones_down] or list(self.zones)
        for _ in range(self.desired - len(serving)):
            serving.append(self._launch(self._emptiest_zone(zones_down), "below desired"))
        if len(serving) > self.desired:
            if all(i.health == "healthy" for i in serving):
                for instance in self._fullest_first(serving, up)[: len(serving) - self.desired]:
                    self._drain(instance, "above desired capacity")
            return
        counts = {zone: sum(i.zone == zone for i in serving) for zone in up}
        if counts and max(counts.values()) - min(counts.values()) > 1:
            # Rebalance, launching first: the surplus drains once the new one is healthy.
            emptiest = min(up, key=lambda zone: counts[zone])
            self._launch(emptiest, "rebalancing over the zones")

    def _fullest_first(self, serving: list[Instance], up: list[str]) -> list[Instance]:
        """Instances to give up first: those in zones that are down, then the fullest zone's,
        newest first."""
        counts = {zone: sum(i.zone == zone for i in serving) for zone in self.zones}
        return sorted(serving, key=lambda i: (i.zone in up, -counts.get(i.zone, 0), -i.launched))

    def _finish_draining(self, now: float) -> None:
        delay = self.health_check.deregistration_delay_s
        for instance in list(self.instances):
            if instance.lifecycle != "draining" or instance.draining_since is None:
                continue
            waited = now - instance.draining_since
            # A moment's wait even when idle: the balancers must have read the deregistration.
            if (instance.outstanding == 0 and waited >= 1.0) or waited >= delay:
                instance.service.stop(5.0)
                self.instances.remove(instance)
                self._event("terminate", instance, f"drained after {waited:.1f} s")

    # --- helpers -------------------------------------------------------------------------------

    def _emptiest_zone(self, zones_down: set[str]) -> str:
        up = [z for z in self.zones if z not in zones_down] or list(self.zones)
        serving = [i for i in self.instances if i.lifecycle == "in-service"]
        return min(up, key=lambda zone: sum(i.zone == zone for i in serving))

    def _launch(self, zone: str, reason: str) -> Instance:
        self.launches += 1
        instance_id = f"{self.name}-{zone.rsplit('-', 1)[-1]}{self.launches}"
        spec = ServiceSpec(instance_id, self.app, free_port(), self.environment)
        service = InstanceProcess(spec, self.system)
        service.start()
        instance = Instance(instance_id, zone, service, self.clock())
        self.instances.append(instance)
        self._event("launch", instance, reason)
        return instance

    def _drain(self, instance: Instance, reason: str) -> None:
        instance.lifecycle = "draining"
        instance.draining_since = self.clock()
        self._event("drain", instance, reason)

    def _event(self, action: str, instance: Instance, reason: str) -> None:
        self.events.append(FleetEvent(self.clock(), action, instance.id, instance.zone, reason))
        del self.events[:-50]
        log.info("%s: %s %s in %s: %s", self.name, action, instance.id, instance.zone, reason)

    def targets(self) -> list[dict[str, Any]]:
        return [i.target() for i in self.instances if i.alive]

    def state(self) -> dict[str, Any]:
        return {
            "group": self.name,
            "system": self.system,
            "tier": self.tier,
            "min": self.min_size,
            "max": self.max_size,
            "desired": self.desired,
            "zones": list(self.zones),
            "requests_per_s": round(self._rate.rate, 1),
            "events": [e.__dict__ for e in self.events[-20:]],
        }

    def instance_states(self) -> list[dict[str, Any]]:
        return [
            {
                "id": i.id,
                "system": self.system,
                "group": self.name,
                "tier": self.tier,
                "zone": i.zone,
                "pid": i.pid,
                "port": i.port,
                "url": f"http://{HOST}:{i.port}",
                "lifecycle": i.lifecycle,
                "health": i.health,
                "healthy": i.health == "healthy" and i.lifecycle == "in-service",
                "alive": i.alive,
                "outstanding": i.outstanding,
                "requests": i.requests,
                "launched": i.launched,
            }
            for i in self.instances
        ]
