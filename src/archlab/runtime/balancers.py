"""Load balancer nodes as processes: their spec from the topology, the targets files the
supervisor writes for them, the status files they write back (see ``balancer.server``)."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from archlab.runtime.balancer.server import BalancerSpec, ListenerSpec, run_balancer
from archlab.runtime.balancer.targets import HealthCheckPolicy
from archlab.runtime.balancer.waf import WafPolicy
from archlab.runtime.processes import Supervised
from archlab.runtime.services import HOST
from archlab.topology import InstanceGroup, LoadBalancer, Topology

log = logging.getLogger(__name__)
HEALTH_ORDER = {"unhealthy": 0, "initial": 1, "healthy": 2}


def public_host() -> str:
    """Where public load balancers listen: ARCHLAB_PUBLIC_HOST, else loopback. Only load
    balancers use it; every tier behind them listens on loopback."""
    return os.environ.get("ARCHLAB_PUBLIC_HOST") or HOST


def group_name(topology: Topology, node_id: str) -> str:
    return f"{topology.system}-{node_id}"


def balancer_spec(topology: Topology, node: LoadBalancer, home: Path) -> BalancerSpec:
    name = group_name(topology, node.id)
    directory = home / "balancers"
    groups = []
    for target in node.targets:
        group = topology.node(target)
        assert isinstance(group, InstanceGroup)
        check = group.health_check
        policy = HealthCheckPolicy(
            check.path,
            check.interval_s,
            check.timeout_s,
            check.healthy_threshold,
            check.unhealthy_threshold,
        )
        groups.append((group_name(topology, target), policy))
    waf = None
    if node.waf is not None:
        waf = WafPolicy(**node.waf.model_dump())
    listener = ListenerSpec(
        name=node.id,
        host=public_host() if node.placement == "public" else HOST,
        port=node.port,
        default_group=group_name(topology, node.default_target or node.targets[0]),
        routes=tuple((r.path_prefix, group_name(topology, r.target)) for r in node.routes),
        waf=waf,
    )
    return BalancerSpec(
        name=name,
        listeners=(listener,),
        groups=tuple(groups),
        targets_file=str(directory / f"{name}-targets.json"),
        status_file=str(directory / f"{name}.json"),
        log_dir=str(directory),
        access_log=node.access_logs,
    )


class BalancerProcess(Supervised):
    """A load balancer node's process."""

    kind = "lb"

    def __init__(self, spec: BalancerSpec, system: str, node_id: str, public: bool) -> None:
        super().__init__(spec.name, run_balancer, (spec,))
        self.spec = spec
        self.system = system
        self.node_id = node_id
        self.public = public
        Path(spec.log_dir).mkdir(parents=True, exist_ok=True)

    @property
    def listener(self) -> ListenerSpec:
        return self.spec.listeners[0]

    @property
    def url(self) -> str:
        return f"http://{self.listener.host}:{self.listener.port}"

    @property
    def groups(self) -> list[str]:
        return [name for name, _ in self.spec.groups]

    def write_targets(self, targets: dict[str, list[dict[str, Any]]]) -> None:
        """Atomically, and only when something changed (the balancer rereads on change)."""
        document = json.dumps({"target_groups": targets}, sort_keys=True)
        path = Path(self.spec.targets_file)
        try:
            if path.read_text(encoding="utf-8") == document:
                return
        except FileNotFoundError:
            pass
        scratch = path.with_suffix(".tmp")
        scratch.write_text(document, encoding="utf-8")
        scratch.replace(path)

    def status(self) -> dict[str, Any] | None:
        """The balancer's last report, if its process is the one that wrote it."""
        try:
            report: dict[str, Any] = json.loads(Path(self.spec.status_file).read_text())
        except (FileNotFoundError, ValueError):
            return None
        if self.process is None or report.get("pid") != self.process.pid:
            return None
        return report

    def wait_ready(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if self.process is not None and not self.process.is_alive():
                return False
            with socket.socket() as probe:
                probe.settimeout(0.2)
                if probe.connect_ex((self.listener.host, self.listener.port)) == 0:
                    return True
            time.sleep(0.05)
        return False

    def state(self) -> dict[str, Any]:
        report = self.status() or {}
        listener = (report.get("listeners") or [{}])[0]
        return {
            "balancer": self.spec.name,
            "system": self.system,
            "node": self.node_id,
            "url": self.url,
            "public": self.public,
            "requests": listener.get("requests", 0),
            "in_flight": listener.get("in_flight", 0),
            "retries": listener.get("retries", 0),
            "responses": listener.get("responses", {}),
            "local_responses": listener.get("local_responses", {}),
            "waf": listener.get("waf"),
            "target_groups": report.get("target_groups", {}),
            **super().state(),
        }


def balancer_view(balancers: list[BalancerProcess], group: str) -> dict[str, dict[str, Any]]:
    """What every balancer routing to ``group`` says of its targets, by target id: the worst
    health any reports, outstanding and total requests summed."""
    view: dict[str, dict[str, Any]] = {}
    for balancer in balancers:
        report = balancer.status()
        if report is None:
            continue
        for target in report.get("target_groups", {}).get(group, []):
            seen = view.setdefault(
                target["id"], {"health": "healthy", "outstanding": 0, "requests": 0}
            )
            health = target["health"] if target["health"] in HEALTH_ORDER else "healthy"
            if HEALTH_ORDER[health] < HEALTH_ORDER[seen["health"]]:
                seen["health"] = health
            seen["outstanding"] += target["outstanding"]
            seen["requests"] += target["requests"]
    return view
