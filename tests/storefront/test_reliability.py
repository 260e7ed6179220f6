"""The storefront as ``archlab up storefront --profile ha`` runs it -- real processes in two
zones behind the load balancers -- under a steady load of reads and checkouts, while an
instance, then a whole zone, is killed; and what its public address exposes.

What may fail, exactly: a checkout is a POST, so the load balancer may send it again to another
instance only because it carries an ``Idempotency-Key`` (the application tier answers a
repeated key with the order it already made). A POST without one that was in flight on a
killed instance fails with 502; every other request is retried or never reached the dead
instance. These tests send checkouts with keys, as the presentation tier does, and so expect no
failure at all.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from archlab.runtime import chaos
from archlab.runtime.supervisor import Supervisor, supervised
from archlab.systems.storefront.topology import ha
from tests.balancer.harness import free_port
from tests.runtime.test_workers import eventually

CHECKOUT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "address": {
        "line1": "12 St James's Square",
        "city": "London",
        "region": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    },
    "card": {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"},
}
PUBLIC_HOST = "127.0.0.2"
"""The public load balancer listens here; every tier on 127.0.0.1."""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Supervisor, str]]:
    home = tmp_path / "home"
    port = free_port()
    monkeypatch.setenv("ARCHLAB_HOME", str(home))
    monkeypatch.setenv("ARCHLAB_PUBLIC_HOST", PUBLIC_HOST)
    monkeypatch.setenv("ARCHLAB_STOREFRONT_PORT", str(port))
    monkeypatch.setenv("ARCHLAB_STOREFRONT_INTERNAL_PORT", str(free_port()))
    monkeypatch.setenv("ARCHLAB_STOREFRONT_WAF_RATE", "0")  # one test client, many requests
    with supervised([ha()], home, f"sqlite:///{home}/messaging.db") as supervisor:
        eventually(lambda: len(healthy(supervisor)) == 4, timeout=30)
        yield supervisor, f"http://{PUBLIC_HOST}:{port}"


def healthy(supervisor: Supervisor, tier: str | None = None) -> list[dict[str, Any]]:
    return [
        i for i in supervisor.snapshot()["instances"] if i["healthy"] and tier in (None, i["tier"])
    ]


class Shoppers:
    """Readers of the product list and the home page, and shoppers checking out, until
    stopped; every failure kept with what failed."""

    def __init__(self, url: str, readers: int = 2, buyers: int = 2) -> None:
        self.url = url
        self.failures: list[str] = []
        self.reads = 0
        self.orders: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read) for _ in range(readers)]
        self._threads += [threading.Thread(target=self._buy) for _ in range(buyers)]

    def _read(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                for path in ("/api/products", "/"):
                    self._check(client.get, path, (200,))
                    self.reads += 1

    def _buy(self) -> None:
        session = {"X-Session-Id": uuid.uuid4().hex}
        with httpx.Client(base_url=self.url, headers=session, timeout=10) as client:
            while not self._stop.is_set():
                self._check(
                    client.put, "/api/cart/items/car-essential", (200,), json={"quantity": 1}
                )
                key = {"Idempotency-Key": uuid.uuid4().hex}
                answer = self._check(
                    client.post, "/api/checkout", (200, 201), json=CHECKOUT, headers=key
                )
                if answer is not None:
                    self.orders.append(answer.json()["order"]["id"])

    def _check(
        self, call: Any, path: str, expected: tuple[int, ...], **options: Any
    ) -> httpx.Response | None:
        try:
            response: httpx.Response = call(path, **options)
        except httpx.HTTPError as error:
            self.failures.append(f"{path}: {error!r}")
            return None
        if response.status_code not in expected:
            self.failures.append(f"{path}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def __enter__(self) -> Shoppers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(20)


def test_killing_an_application_instance_fails_no_request(
    shop: tuple[Supervisor, str], tmp_path: Path
) -> None:
    supervisor, url = shop
    victim = healthy(supervisor, "app")[0]
    with Shoppers(url) as load:
        time.sleep(1)
        chaos.kill_instance(supervisor.snapshot(), tmp_path / "home", victim["id"])
        killed = time.monotonic()
        eventually(
            lambda: (
                len(healthy(supervisor, "app")) == 2
                and victim["id"] not in {i["id"] for i in healthy(supervisor)}
            ),
            timeout=10,
        )
        back_in = time.monotonic() - killed
        time.sleep(1)
    assert load.failures == []
    assert load.reads > 50 and len(load.orders) > 5
    assert len(set(load.orders)) == len(load.orders)  # no order made twice
    assert back_in < 10


def test_a_zone_outage_fails_no_read_and_capacity_comes_back(
    shop: tuple[Supervisor, str], tmp_path: Path
) -> None:
    supervisor, url = shop
    home = tmp_path / "home"
    with Shoppers(url) as load:
        time.sleep(1)
        chaos.kill_zone(supervisor.snapshot(), home, "zone-a")
        killed = time.monotonic()
        eventually(lambda: [i["zone"] for i in healthy(supervisor)] == ["zone-b"] * 4, timeout=10)
        back_in = time.monotonic() - killed
        time.sleep(1)
    assert load.failures == []
    assert back_in < 10
    chaos.restore_zone(supervisor.snapshot(), home, "zone-a")
    eventually(
        lambda: (
            sorted(i["zone"] for i in healthy(supervisor, "app")) == ["zone-a", "zone-b"]
            and len(supervisor.snapshot()["instances"]) == 4
        ),
        timeout=20,
    )


def test_only_the_load_balancer_is_reachable_on_the_public_address(
    shop: tuple[Supervisor, str],
) -> None:
    supervisor, url = shop
    assert httpx.get(f"{url}/api/products").status_code == 200
    internal = supervisor.snapshot()["endpoints"]["app-lb"]
    ports = [i["port"] for i in supervisor.snapshot()["instances"]]
    ports.append(int(internal.rsplit(":", 1)[1]))
    for port in ports:
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex((PUBLIC_HOST, port)) != 0, f"port {port} is reachable"


ATTACKS = [
    ("get", "/api/products?q=' OR '1'='1", None),
    ("get", "/products/x?ref=<script>alert(1)</script>", None),
    ("get", "/api/products?id=1 UNION SELECT password FROM users", None),
    ("post", "/api/checkout", {**CHECKOUT, "name": "<img src=x onerror=alert(1)>"}),
    ("post", "/api/checkout", {**CHECKOUT, "email": "a@b.c'; DROP TABLE orders; --"}),
]


def test_the_waf_blocks_attacks_and_lets_shoppers_through(shop: tuple[Supervisor, str]) -> None:
    supervisor, url = shop
    session = {"X-Session-Id": uuid.uuid4().hex}
    with httpx.Client(base_url=url, headers=session) as client:
        for method, path, body in ATTACKS:
            answer = client.request(method.upper(), path, json=body)
            assert answer.status_code == 403, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        assert client.get("/").status_code == 200
        assert client.get("/api/products").status_code == 200
        assert client.put("/api/cart/items/car-essential", json={"quantity": 2}).status_code == 200
        order = client.post("/api/checkout", json={**CHECKOUT, "name": "Siobhán O'Brien"})
        assert order.status_code == 201, order.text
    eventually(
        lambda: (
            sum(
                sum((b["waf"] or {}).get("blocked", {}).values())
                for b in supervisor.snapshot()["balancers"]
            )
            == len(ATTACKS)
        )
    )
