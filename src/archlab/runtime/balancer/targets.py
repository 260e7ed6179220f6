"""Target groups: the instances a load balancer sends requests to, their health, and the choice
of one for each request.

Registration comes from the orchestrator (the supervisor writes the targets file; the balancer
reads it when it changes). Health follows Elastic Load Balancing's states: a new target is
``initial`` until it passes ``healthy_threshold`` checks in a row; ``unhealthy_threshold``
failures in a row make it ``unhealthy``; a target being deregistered is ``draining``: it gets no
new requests and finishes the ones it has. Besides the active checks (``GET path`` every
``interval_s``), a connection the target refuses or drops marks it unhealthy at once -- passive
health checking, as Envoy's outlier detection does and ALB does not -- so that requests stop
going to a killed instance within one request rather than after two check intervals.

The choice is **least outstanding requests** (ALB's ``least_outstanding_requests`` algorithm):
the healthy target with the fewest requests in flight, ties broken in turn. When no target is
healthy the group *fails open*, as ALB does: every registered target that is not draining gets
requests, since a health check that fails everywhere more often means a bad check than a dead
fleet.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

Health = Literal["initial", "healthy", "unhealthy", "draining"]


@dataclass(frozen=True)
class HealthCheckPolicy:
    path: str = "/health"
    interval_s: float = 1.0
    timeout_s: float = 0.5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"health check path must start with '/', got {self.path!r}")
        if self.interval_s <= 0 or self.timeout_s <= 0 or self.timeout_s > self.interval_s:
            raise ValueError("health checks need 0 < timeout_s <= interval_s")
        if self.healthy_threshold < 1 or self.unhealthy_threshold < 1:
            raise ValueError("health check thresholds must be at least 1")


@dataclass
class Target:
    id: str
    host: str
    port: int
    zone: str = ""
    health: Health = "initial"
    outstanding: int = 0
    requests: int = 0
    failures: int = 0
    """Connections refused or dropped mid-request (passive health)."""
    passes: int = 0
    """Consecutive passed checks."""
    fails: int = 0
    """Consecutive failed checks."""
    reason: str = "registered"
    draining: bool = False

    def state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "port": self.port,
            "zone": self.zone,
            "health": "draining" if self.draining else self.health,
            "reason": self.reason,
            "outstanding": self.outstanding,
            "requests": self.requests,
            "failures": self.failures,
        }


@dataclass
class TargetGroup:
    name: str
    health_check: HealthCheckPolicy = field(default_factory=HealthCheckPolicy)
    targets: dict[str, Target] = field(default_factory=dict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def register(self, entries: list[dict[str, Any]]) -> None:
        """Make the registered targets these (``id``, ``host``, ``port``, ``zone``,
        ``state``: ``active`` or ``draining``): new ones start ``initial``, known ones keep
        their health and counters, missing ones are dropped."""
        wanted = {}
        for entry in entries:
            known = self.targets.get(entry["id"])
            same = known and (known.host, known.port) == (entry["host"], entry["port"])
            target = (
                known
                if same and known is not None
                else Target(entry["id"], entry["host"], int(entry["port"]), entry.get("zone", ""))
            )
            target.draining = entry.get("state") == "draining"
            wanted[target.id] = target
        self.targets = wanted

    def choose(self, exclude: set[str] | frozenset[str] = frozenset()) -> Target | None:
        """The target for the next request: least outstanding among the healthy ones (failing
        open to every active one when none is healthy); None when there is no target."""
        active = [t for t in self.targets.values() if not t.draining and t.id not in exclude]
        healthy = [t for t in active if t.health == "healthy"] or active
        if not healthy:
            return None
        fewest = min(t.outstanding for t in healthy)
        tied = [t for t in healthy if t.outstanding == fewest]
        return tied[next(self._turn) % len(tied)]

    def checked(self, target: Target, passed: bool, reason: str) -> None:
        """Record an active health check's result and move the target's state."""
        policy = self.health_check
        if passed:
            target.passes, target.fails = target.passes + 1, 0
            if target.health != "healthy" and target.passes >= policy.healthy_threshold:
                target.health, target.reason = "healthy", reason
        else:
            target.passes, target.fails = 0, target.fails + 1
            if target.health != "unhealthy" and target.fails >= policy.unhealthy_threshold:
                target.health, target.reason = "unhealthy", reason

    def connection_failed(self, target: Target, reason: str) -> None:
        """Passive health: a refused or dropped connection takes the target out at once."""
        target.failures += 1
        target.passes = 0
        target.fails = self.health_check.unhealthy_threshold
        target.health, target.reason = "unhealthy", reason

    def state(self) -> list[dict[str, Any]]:
        return [t.state() for t in self.targets.values()]
