"""The purchases system without processes: routing per design, the ledger, and the CLI."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archlab.blocks import Queue
from archlab.blocks.queue import Message
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.runtime.provision import provision
from archlab.systems.ledger import Item, percentile
from archlab.systems.pacing import pace
from archlab.systems.purchases import backends
from archlab.systems.purchases.cli import purchases_app
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.purchases.publisher import Publisher, parse_mix, purchases
from archlab.systems.purchases.topology import COVERAGES, PROFILES

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    monkeypatch.delenv("ARCHLAB_MESSAGING_URL", raising=False)
    backends.ledger.cache_clear()
    backends.settings.cache_clear()
    return tmp_path


@pytest.fixture
def engine(home: Path) -> Iterator[MessagingEngine]:
    engine = connect(f"sqlite:///{home}/messaging.db")
    yield engine
    engine.close()


def depths(engine: MessagingEngine, names: list[str]) -> dict[str, int]:
    return {
        name: int(Queue(engine, f"purchases-{name}").attributes()["ApproximateNumberOfMessages"])
        for name in names
    }


@pytest.mark.parametrize("profile", ["topic", "bus"])
def test_fan_out_designs_route_each_type_to_its_queue(
    engine: MessagingEngine, home: Path, profile: str
) -> None:
    topology = PROFILES[profile]()
    provision(topology, engine)
    provision(topology, engine)  # idempotent
    publisher = Publisher(topology, engine, Ledger(home / "ledger.db"))
    batch = [next(purchases(parse_mix(f"{c}=1"), random.Random(1))) for c in COVERAGES]
    publisher.publish(batch)
    assert depths(engine, list(COVERAGES)) == dict.fromkeys(COVERAGES, 1)
    [message] = Queue(engine, "purchases-car").receive()
    assert backends.purchase_of(message.body)["coverage"] == "car"  # raw purchase or event


def test_the_bus_compound_rule_picks_western_high_value_car_purchases(
    engine: MessagingEngine, home: Path
) -> None:
    topology = PROFILES["bus"]()
    provision(topology, engine)
    publisher = Publisher(topology, engine, Ledger(home / "ledger.db"))
    base = {"customer": "C-1", "currency": "USD"}
    publisher.publish(
        [
            {**base, "id": "1", "coverage": "car", "state": "CA", "premium": 2000},
            {**base, "id": "2", "coverage": "car", "state": "TX", "premium": 2000},
            {**base, "id": "3", "coverage": "car", "state": "WA", "premium": 900},
            {**base, "id": "4", "coverage": "home", "state": "CA", "premium": 2000},
        ]
    )
    assert depths(engine, ["car", "home", "underwriting"]) == {
        "car": 3,
        "home": 1,
        "underwriting": 1,
    }


def test_the_dispatcher_design_uses_one_queue(engine: MessagingEngine, home: Path) -> None:
    topology = PROFILES["dispatcher"]()
    provision(topology, engine)
    publisher = Publisher(topology, engine, Ledger(home / "ledger.db"))
    publisher.publish([next(purchases(parse_mix(None), random.Random(2))) for _ in range(7)])
    assert depths(engine, ["purchases"]) == {"purchases": 7}


def test_a_steady_rate_sends_rate_times_duration_in_batches_of_ten() -> None:
    sent: list[int] = []
    count = pace(lambda batch: sent.append(len(batch)), iter(range(10**6)), rate=200, duration=0.5)
    assert count == 100 == sum(sent) and max(sent) <= 10
    assert pace(lambda batch: sent.append(len(batch)), iter(range(25)), count=25) == 25
    with pytest.raises(ValueError, match="give count, or rate and duration"):
        pace(sent.append, iter(range(5)), rate=3)


def test_backends_are_idempotent_and_count_duplicates(home: Path) -> None:
    body = json.dumps({"id": "p-1", "coverage": "pet", "published_at": 1.0})
    message = Message("m", "r", body, {"ApproximateReceiveCount": "1"})
    backends.handle(message)
    backends.handle(message)  # redelivered
    row = Ledger().report()["pet"]
    assert (row["processed"], row["duplicates"]) == (1, 1)


def test_a_failing_backend_records_the_last_receive_as_dead_lettered(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHLAB_PURCHASES_BACKENDS", '{"pet": {"failure_rate": 1, "work_ms": 0}}')
    body = json.dumps({"id": "p-2", "coverage": "pet", "published_at": 1.0})
    for receives in ("1", "2", "3"):
        with pytest.raises(backends.BackendFailure):
            backends.handle(Message("m", "r", body, {"ApproximateReceiveCount": receives}))
    assert Ledger().report()["pet"]["dead_lettered"] == 1


def test_report_latency_percentiles(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    for i in range(100):
        purchase = Item(str(i), "car", 1000.0)
        ledger.submitted([purchase])
        ledger.processed(purchase, 1000.0 + (i + 1) / 1000, worker=1)
    row = ledger.report()["car"]
    assert (row["p50_ms"], row["p99_ms"]) == (50.0, 99.0)
    assert percentile([], 50) is None


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ([], "either --count N, or --rate R"),
        (["--count", "5", "--rate", "3"], "either --count N, or --rate R"),
        (["--count", "0"], "--count must be at least 1"),
        (["--rate", "5"], "positive --duration"),
        (["--count", "5", "--mix", "boat=1"], "unknown coverage 'boat'"),
        (["--count", "5", "--mix", "car=x"], "needs a number"),
        (["--count", "5", "--mix", "car=0"], "add up to 0"),
        (["--count", "5", "--profile", "carrier-pigeon"], "no profile 'carrier-pigeon'"),
    ],
)
def test_publish_names_bad_input(home: Path, arguments: list[str], problem: str) -> None:
    result = runner.invoke(purchases_app, ["publish", *arguments])
    assert result.exit_code == 2
    assert problem in result.stderr
    assert not (home / "messaging.db").exists()  # nothing was created


def test_publish_and_report_from_the_shell(home: Path) -> None:
    result = runner.invoke(purchases_app, ["publish", "--count", "25", "--profile", "bus"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"Published": 25, "Profile": "bus"}
    report = json.loads(runner.invoke(purchases_app, ["report", "--json"]).stdout)
    assert sum(row["published"] for row in report.values()) == 25
    table = runner.invoke(purchases_app, ["report"]).stdout
    assert "published" in table and "car" in table
    assert runner.invoke(purchases_app, ["report", "--reset"]).exit_code == 0
    assert json.loads(runner.invoke(purchases_app, ["report", "--json"]).stdout) == {}


def test_a_window_counts_unprocessed_purchases_with_their_wait_so_far(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    done, stuck, outside = (
        Item("a", "car", 10.0),
        Item("b", "car", 11.0),
        Item("c", "car", 30.0),
    )
    ledger.submitted([done, stuck, outside])
    ledger.processed(done, 10.5, worker=1)
    assert ledger.window(10.0, 20.0, horizon=15.0) == {
        "car": {"published": 2, "processed": 1, "p50_ms": 500.0, "p99_ms": 4000.0}
    }


def test_two_backends_may_process_one_purchase(home: Path) -> None:
    body = json.dumps({"id": "p-3", "coverage": "car", "published_at": 1.0})
    message = Message("m", "r", body, {"ApproximateReceiveCount": "1"})
    backends.handle(message)
    backends.review(message)
    report = Ledger().report()
    assert report["car"]["processed"] == report["underwriting"]["processed"] == 1
    assert report["car"]["duplicates"] == 0
