"""The storefront feeds the purchases system: one purchase per order line, into whichever
design the running supervisor says purchases runs, counted in the purchases ledger; nothing
when purchases does not run; never an exception when publishing fails."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archlab.blocks import Queue
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.runtime.provision import provision
from archlab.runtime.supervisor import STATE_FILE
from archlab.systems.purchases import SYSTEM as PURCHASES
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.storefront.purchases_feed import STATE_TTL_S, PurchasesFeed, purchases_of

ORDER: dict[str, Any] = {
    "id": "0b8a1d6e-43b5-4a5c-9d68-5a8d7f1c2e3b",
    "currency": "USD",
    "customer": {"name": "Ann Lee", "email": "Ann@Example.com"},
    "address": {"region": "wa", "country": "US"},
    "items": [
        {"product_id": "car-comprehensive", "coverage": "car", "quantity": 2,
         "line_total": "178.00"},
        {"product_id": "pet-accident", "coverage": "pet", "quantity": 1, "line_total": "12.40"},
    ],
}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    monkeypatch.setenv("ARCHLAB_MESSAGING_URL", f"sqlite:///{tmp_path}/messaging.db")
    return tmp_path


@pytest.fixture
def engine(home: Path) -> Iterator[MessagingEngine]:
    opened = connect(f"sqlite:///{home}/messaging.db")
    yield opened
    opened.close()


def running(home: Path, profile: str) -> None:
    """What a supervisor running purchases in ``profile`` would have written."""
    state = {"pid": os.getpid(), "systems": {"purchases": {"profile": profile}}}
    (home / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")


def test_an_order_makes_one_purchase_per_line() -> None:
    made = purchases_of(ORDER)
    assert [p["id"] for p in made] == [f"{ORDER['id']}-1", f"{ORDER['id']}-2"]
    assert [p["coverage"] for p in made] == ["car", "pet"]
    assert [p["premium"] for p in made] == [2136.0, 148.8]  # a year of the line's premium
    assert {p["state"] for p in made} == {"WA"} and {p["currency"] for p in made} == {"USD"}
    assert (
        made[0]["customer"]
        == made[1]["customer"]
        == purchases_of({**ORDER, "customer": {"name": "x", "email": "ann@example.com"}})[0][
            "customer"
        ]
    )
    assert "ann" not in made[0]["customer"].lower()


@pytest.mark.parametrize("region", ["Ontario", "", None, "ZZ"])
def test_a_region_that_is_no_us_state_counts_as_california(region: str | None) -> None:
    order = {**ORDER, "address": {"region": region, "country": "CA"}}
    assert {p["state"] for p in purchases_of(order)} == {"CA"}


def test_nothing_is_sent_when_purchases_does_not_run(home: Path) -> None:
    assert PurchasesFeed().publish(ORDER) == 0
    running(home, "topic")
    state = json.loads((home / STATE_FILE).read_text())
    state["pid"] = 2**22 + 12345  # a supervisor that is gone
    (home / STATE_FILE).write_text(json.dumps(state))
    assert PurchasesFeed().publish(ORDER) == 0
    state = {"pid": os.getpid(), "systems": {"storefront": {"profile": "ha"}}}
    (home / STATE_FILE).write_text(json.dumps(state))
    assert PurchasesFeed().publish(ORDER) == 0
    assert not (home / "purchases").exists()


def test_purchases_started_later_are_fed_once_the_state_is_read_again(
    home: Path, engine: MessagingEngine
) -> None:
    now = [0.0]
    feed = PurchasesFeed(clock=lambda: now[0])
    assert feed.publish(ORDER) == 0
    provision(PURCHASES.topology("topic"), engine)
    running(home, "topic")
    assert feed.publish(ORDER) == 0  # what it read a moment ago still stands
    now[0] += STATE_TTL_S
    assert feed.publish(ORDER) == 2


@pytest.mark.parametrize(
    ("profile", "queues"),
    [
        ("topic", {"car": 1, "pet": 1, "home": 0}),
        ("bus", {"car": 1, "pet": 1, "underwriting": 1}),  # WA, a car premium over 1,500
        ("dispatcher", {"purchases": 2}),
    ],
)
def test_purchases_reach_the_running_design_and_its_ledger(
    home: Path, engine: MessagingEngine, profile: str, queues: dict[str, int]
) -> None:
    provision(PURCHASES.topology(profile), engine)
    running(home, profile)
    feed = PurchasesFeed()
    assert feed.publish(ORDER) == 2
    for node, expected in queues.items():
        received = Queue(engine, f"purchases-{node}").receive(10, wait_seconds=0)
        assert len(received) == expected, node
        for message in received:
            body = json.loads(message.body)
            purchase = body["detail"] if profile == "bus" else body  # the bus sends the event
            assert purchase["id"].startswith(ORDER["id"]) and purchase["published_at"] > 0
    report = Ledger(home / "purchases" / "ledger.db").report()
    assert {kind: row["published"] for kind, row in report.items()} == {"car": 1, "pet": 1}


def test_a_failure_to_publish_is_logged_not_raised(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    running(home, "topic")  # running, by the state file; but its topic was never provisioned
    caplog.set_level(logging.ERROR)
    assert PurchasesFeed().publish(ORDER) == 0
    assert "could not publish" in caplog.text and ORDER["id"] in caplog.text

    def broken() -> MessagingEngine:
        raise OSError("the disk is gone")

    assert PurchasesFeed(engine=broken).publish(ORDER) == 0
