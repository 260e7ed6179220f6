"""The orchestrator with real processes: HTTP instances in zones behind a load balancer
process, kept at capacity through instance and zone failures, replaced when unhealthy, scaled
on requests and drained on the way in."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from archlab.runtime import chaos
from archlab.runtime.supervisor import Supervisor, supervised
from archlab.topology import (
    Edge,
    HealthCheck,
    InstanceGroup,
    LoadBalancer,
    Profile,
    RequestTracking,
    Service,
    Topology,
)
from tests.balancer.harness import free_port
from tests.runtime.test_workers import eventually

APP = "tests.runtime.apps:create_app"
CHECKS = HealthCheck(interval_s=0.25, timeout_s=0.25, grace_period_s=2.0, deregistration_delay_s=3)


def fleet(port: int, size: int = 2, scaling: RequestTracking | None = None) -> Topology:
    return Topology(
        system="fleet",
        profile=Profile(name="ha"),
        nodes=(
            Service(id="clients"),
            LoadBalancer(id="lb", port=port, default_target="web"),
            InstanceGroup(
                id="web",
                app=APP,
                min_size=size if scaling is None else 1,
                max_size=4,
                desired=size,
                health_check=CHECKS,
                request_scaling=scaling,
            ),
        ),
        edges=(
            Edge(source="clients", target="lb", kind="calls"),
            Edge(source="lb", target="web", kind="calls"),
        ),
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ARCHLAB_TEST_OUTPUT", str(tmp_path / "output.txt"))
    return tmp_path / "home"


@pytest.fixture
def running(home: Path) -> Iterator[tuple[Supervisor, str]]:
    port = free_port()
    with supervised([fleet(port)], home, f"sqlite:///{home}/messaging.db") as supervisor:
        yield supervisor, f"http://127.0.0.1:{port}"


def healthy(supervisor: Supervisor) -> list[dict[str, Any]]:
    return [i for i in supervisor.snapshot()["instances"] if i["healthy"]]


class Load:
    """A client sending requests through the balancer until stopped, keeping every failure."""

    def __init__(self, url: str, path: str = "/whoami?ms=20", method: str = "GET") -> None:
        self.url, self.path, self.method = url, path, method
        self.ok = 0
        self.failures: list[str] = []
        self.served_by: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                try:
                    response = client.request(self.method, self.path, content=b"x")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    self.ok += 1
                    self.served_by.add(response.json()["instance"])

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(15)


def test_instances_spread_over_zones_and_are_listed(running: tuple[Supervisor, str]) -> None:
    supervisor, url = running
    eventually(lambda: len(healthy(supervisor)) == 2)
    state = supervisor.snapshot()
    assert sorted(i["zone"] for i in state["instances"]) == ["zone-a", "zone-b"]
    for instance in state["instances"]:
        assert {"id", "tier", "zone", "pid", "healthy"} <= set(instance)
        assert instance["tier"] == "web" and instance["pid"]
    assert supervisor.endpoints["lb"] == url
    answers = {httpx.get(f"{url}/whoami").json()["instance"] for _ in range(8)}
    assert answers == {i["id"] for i in state["instances"]}


def test_a_killed_instance_costs_no_request_and_is_replaced(
    running: tuple[Supervisor, str], home: Path
) -> None:
    supervisor, url = running
    eventually(lambda: len(healthy(supervisor)) == 2)
    victim = supervisor.snapshot()["instances"][0]
    with Load(url) as load, Load(url, "/order?ms=20", "POST") as orders:
        time.sleep(0.5)
        chaos.kill_instance(supervisor.snapshot(), home, victim["id"])
        killed = time.monotonic()
        eventually(
            lambda: (
                len(healthy(supervisor)) == 2
                and victim["id"] not in {i["id"] for i in healthy(supervisor)}
            ),
            timeout=10,
        )
        replaced_in = time.monotonic() - killed
        time.sleep(0.5)
    assert load.failures == [] and load.ok > 20
    # A POST in flight on the killed instance may fail (502): it cannot be retried safely.
    assert all(f.startswith("502") for f in orders.failures) and len(orders.failures) <= 1
    assert replaced_in < 10
    replacement = [i for i in healthy(supervisor) if i["id"] != victim["id"]]
    assert victim["zone"] in {i["zone"] for i in replacement}  # back in the same zone
    assert chaos.history(home)[-1]["action"] == "kill-instance"


def test_a_zone_outage_moves_capacity_and_the_zone_comes_back(
    running: tuple[Supervisor, str], home: Path
) -> None:
    supervisor, url = running
    eventually(lambda: len(healthy(supervisor)) == 2)
    with Load(url) as load:
        time.sleep(0.5)
        chaos.kill_zone(supervisor.snapshot(), home, "zone-a")
        eventually(
            lambda: [i["zone"] for i in healthy(supervisor)] == ["zone-b", "zone-b"], timeout=10
        )
        time.sleep(0.5)
    assert load.failures == []
    assert supervisor.snapshot()["zones_down"] == ["zone-a"]
    chaos.restore_zone(supervisor.snapshot(), home, "zone-a")
    eventually(
        lambda: (
            sorted(i["zone"] for i in healthy(supervisor)) == ["zone-a", "zone-b"]
            and len(supervisor.snapshot()["instances"]) == 2
        ),
        timeout=15,
    )
    with pytest.raises(chaos.ChaosError, match="not down"):
        chaos.restore_zone(supervisor.snapshot(), home, "zone-a")
    with pytest.raises(chaos.ChaosError, match="no zone"):
        chaos.kill_zone(supervisor.snapshot(), home, "zone-z")


def test_an_unhealthy_instance_is_replaced(
    running: tuple[Supervisor, str], home: Path, tmp_path: Path
) -> None:
    supervisor, _ = running
    eventually(lambda: len(healthy(supervisor)) == 2)
    sick = supervisor.snapshot()["instances"][0]
    (tmp_path / "sick").write_text(sick["id"])
    eventually(lambda: sick["id"] not in {i["id"] for i in supervisor.snapshot()["instances"]})
    eventually(lambda: len(healthy(supervisor)) == 2, timeout=10)
    events = [e for g in supervisor.snapshot()["groups"] for e in g["events"]]
    assert any(e["action"] == "terminate" and "unhealthy" in e["reason"] for e in events)


def test_it_scales_out_on_requests_and_drains_on_the_way_in(home: Path) -> None:
    port = free_port()
    scaling = RequestTracking(
        requests_per_target_per_s=20, scale_out_cooldown_s=0, scale_in_cooldown_s=1
    )
    topology = fleet(port, size=1, scaling=scaling)
    with supervised([topology], home, f"sqlite:///{home}/messaging.db") as supervisor:
        url = f"http://127.0.0.1:{port}"
        eventually(lambda: len(healthy(supervisor)) == 1)
        with Load(url, "/whoami?ms=5") as load:
            eventually(lambda: len(healthy(supervisor)) >= 2, timeout=15)
        assert load.failures == []
        eventually(lambda: len(supervisor.snapshot()["instances"]) == 1, timeout=20)
        events = [e["action"] for g in supervisor.snapshot()["groups"] for e in g["events"]]
        assert "scale-out" in events and "scale-in" in events and "drain" in events
    state = json.loads((home / "balancers" / "fleet-lb.json").read_text())
    assert state["listeners"][0]["responses"].get("5xx", 0) == 0
