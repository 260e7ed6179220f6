"""The clickstream's tracker on the shop's pages: there, with the collector allowed by the
page's Content-Security-Policy, exactly when the clickstream runs; and the events the pages
mark for it (add to cart, begin checkout, each purchase of an order just placed)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from archlab.systems.storefront.web import create_web_app
from archlab.systems.storefront.web.tracking import Tracking
from tests.storefront.test_web import GOOD_CARD, SECRET, add, checkout_form, page
from tests.storefront.web_fakes import FakeStoreApi

COLLECTOR = "http://127.0.0.1:8083"


def running(home: Path, endpoints: dict[str, str]) -> None:
    """A state file as a running supervisor (this process, so it counts as alive) writes it."""
    home.mkdir(parents=True, exist_ok=True)
    state = {"pid": os.getpid(), "endpoints": endpoints, "systems": {}}
    (home / "state.json").write_text(json.dumps(state), encoding="utf-8")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fake() -> FakeStoreApi:
    return FakeStoreApi()


@pytest.fixture
def client(home: Path, fake: FakeStoreApi) -> Iterator[TestClient]:
    with TestClient(create_web_app(api=fake.client(), secret=SECRET)) as test_client:
        yield test_client


def test_no_tracker_when_the_clickstream_does_not_run(client: TestClient) -> None:
    response = client.get("/")
    assert not [s for s in page(response).find("script") if "tracker.js" in s.get("src", "")]
    assert COLLECTOR not in response.headers["content-security-policy"]
    assert "connect-src" not in response.headers["content-security-policy"]


def test_the_tracker_and_its_collector_are_allowed_when_it_runs(
    home: Path, client: TestClient
) -> None:
    running(home, {"clickstream": COLLECTOR, "storefront": "http://127.0.0.1:8000"})
    response = client.get("/products/car-comprehensive")
    scripts = [s["src"] for s in page(response).find("script")]
    assert f"{COLLECTOR}/tracker.js" in scripts
    policy = response.headers["content-security-policy"]
    assert f"script-src 'self' {COLLECTOR}" in policy
    assert f"connect-src 'self' {COLLECTOR}" in policy
    assert "frame-ancestors 'none'" in policy  # the rest of the shop's policy stays
    button = page(response).one("button", type="submit", class_="button primary")
    assert button["data-track"] == "add_to_cart"
    assert button["data-product"] == "car-comprehensive"
    assert button["data-coverage"] == "car"
    assert float(button["data-value"]) > 0


def test_the_cart_marks_the_step_to_checkout(home: Path, client: TestClient) -> None:
    running(home, {"clickstream": COLLECTOR})
    add(client, "pet-lifetime")
    cart = page(client.get("/cart"))
    assert cart.one("a", href="/checkout", class_="button primary")["data-track"] == (
        "begin_checkout"
    )


def test_an_order_just_placed_sends_its_purchases_once(home: Path, client: TestClient) -> None:
    running(home, {"clickstream": COLLECTOR})
    add(client, "pet-lifetime", 2)
    add(client, "travel-annual")
    placed = client.post("/checkout", data=checkout_form(client) | GOOD_CARD)
    assert placed.status_code == 200  # followed to the order's page
    purchases = page(placed).find("span", **{"data-track-load": "purchase"})
    assert sorted(p["data-product"] for p in purchases) == ["pet-lifetime", "travel-annual"]
    assert {p["data-coverage"] for p in purchases} == {"pet", "travel"}
    again = page(client.get(placed.url.path))  # the same order looked at later
    assert not again.find("span", **{"data-track-load": "purchase"})


def test_the_state_is_read_again_after_its_ttl(home: Path) -> None:
    now = [0.0]
    tracking = Tracking(home, clock=lambda: now[0])
    assert tracking.collector() is None
    running(home, {"clickstream": COLLECTOR + "/"})
    assert tracking.collector() is None  # still believed
    now[0] += 2.5
    assert tracking.collector() == COLLECTOR
