"""The claims system: both designs' topologies, routing per design, the ledger, the CLI, and one
run with real worker processes under the supervisor."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archlab.blocks import Queue
from archlab.blocks.queue import Message
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.runtime.provision import provision
from archlab.runtime.supervisor import supervised
from archlab.systems.claims import SYSTEM, backends
from archlab.systems.claims.cli import claims_app
from archlab.systems.claims.ledger import Ledger
from archlab.systems.claims.submitter import Submitter, claims
from archlab.systems.claims.topology import CAR_PRIORITY, PROFILES
from archlab.systems.ledger import Item
from archlab.systems.pacing import pace
from archlab.topology import InstanceGroup, Topology

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))  # spawned workers inherit it
    monkeypatch.delenv("ARCHLAB_MESSAGING_URL", raising=False)
    monkeypatch.delenv("ARCHLAB_CLAIMS_BACKENDS", raising=False)
    backends.ledger.cache_clear()
    backends.settings.cache_clear()
    return tmp_path


@pytest.fixture
def engine(home: Path) -> Iterator[MessagingEngine]:
    engine = connect(f"sqlite:///{home}/messaging.db")
    yield engine
    engine.close()


def submitter(profile: str, engine: MessagingEngine) -> Submitter:
    topology = PROFILES[profile]()
    provision(topology, engine)
    return Submitter(topology, engine, Ledger())


def some(count: int, car_share: float, seed: int = 1) -> list[dict[str, object]]:
    return list(islice(claims(car_share, random.Random(seed)), count))


def bodies(queue: Queue) -> list[dict[str, object]]:
    received: list[dict[str, object]] = []
    while batch := queue.receive(10):
        received += [json.loads(m.body) for m in batch]
    return received


@pytest.mark.parametrize("profile", list(PROFILES))
def test_each_profile_is_a_valid_topology_that_survives_json(profile: str) -> None:
    topology = SYSTEM.topology(profile)
    assert topology.system == "claims" and topology.profile.name == profile
    assert Topology.from_json(topology.to_json()) == topology
    for group in topology.of_kind(InstanceGroup):
        assert topology.edges_to(group.id, "triggers")  # every pool consumes a queue


def test_two_queues_scales_the_car_lane_only() -> None:
    topology = PROFILES["two-queues"]()
    car, other = topology.node("car-adjusters"), topology.node("other-adjusters")
    assert isinstance(car, InstanceGroup) and isinstance(other, InstanceGroup)
    assert car.scaling is not None and car.scaling.target_backlog_per_worker == 5
    assert (car.min_size, car.max_size) == (1, 4)
    assert (other.scaling, other.min_size, other.max_size) == (None, 1, 1)


def test_two_queues_sends_car_claims_to_the_car_lane_only(engine: MessagingEngine) -> None:
    batch = some(30, car_share=0.3)
    submitter("two-queues", engine).submit(batch)
    car = bodies(Queue(engine, "claims-car-claims"))
    other = bodies(Queue(engine, "claims-other-claims"))
    assert {c["type"] for c in car} == {"car"}
    assert {c["type"] for c in other} == {"other"}
    assert len(car) == sum(c["type"] == "car" for c in batch) and len(car) + len(other) == 30
    assert {c["subtype"] for c in other} <= {"home", "travel", "pet", "life"}


def test_priority_serves_a_car_claim_before_the_others_queued_ahead(
    engine: MessagingEngine,
) -> None:
    sender = submitter("priority", engine)
    sender.submit(some(50, car_share=0))
    [car] = some(1, car_share=1)
    sender.submit([car])
    queue = Queue(engine, "claims-claims")
    assert queue.attributes()["MaxPriority"] == str(CAR_PRIORITY)
    first, second = (json.loads(queue.receive()[0].body) for _ in range(2))
    assert (first["id"], second["type"]) == (car["id"], "other")


def test_claims_are_in_the_ledger_once_sent(engine: MessagingEngine) -> None:
    sender = submitter("priority", engine)
    assert pace(sender.submit, claims(0.5, random.Random(4)), count=23) == 23
    assert sum(row["submitted"] for row in Ledger().report().values()) == 23


def test_processing_twice_counts_one_processed_and_one_duplicate(home: Path) -> None:
    body = json.dumps({"id": "c-1", "type": "car", "submitted_at": 1.0})
    message = Message("m", "r", body, {"ApproximateReceiveCount": "1"})
    backends.handle(message)
    backends.handle(message)  # redelivered
    row = Ledger().report()["car"]
    assert (row["submitted"], row["processed"], row["duplicates"]) == (0, 1, 1)


def test_a_failing_adjuster_records_the_last_receive_as_dead_lettered(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHLAB_CLAIMS_BACKENDS", '{"other": {"failure_rate": 1, "work_ms": 0}}')
    body = json.dumps({"id": "c-2", "type": "other", "submitted_at": 1.0})
    for receives in ("1", "2", "3"):
        with pytest.raises(backends.ClaimFailure):
            backends.handle(Message("m", "r", body, {"ApproximateReceiveCount": receives}))
    row = Ledger().report()["other"]
    assert (row["processed"], row["dead_lettered"]) == (0, 1)


def test_report_latency_percentiles(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    for i in range(100):
        claim = Item(str(i), "other", 1000.0)
        ledger.submitted([claim])
        ledger.processed(claim, 1000.0 + (i + 1) / 1000, worker=1)
    assert ledger.report() == {
        "other": {
            "submitted": 100,
            "processed": 100,
            "duplicates": 0,
            "dead_lettered": 0,
            "p50_ms": 50.0,
            "p99_ms": 99.0,
        }
    }


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ([], "either --count N, or --rate R"),
        (["--count", "5", "--rate", "3"], "either --count N, or --rate R"),
        (["--count", "0"], "--count must be at least 1"),
        (["--rate", "5"], "positive --duration"),
        (["--rate", "0", "--duration", "1"], "positive --duration"),
        (["--count", "5", "--car-share", "1.5"], "--car-share must be from 0 to 1"),
        (["--count", "5", "--car-share", "-0.1"], "--car-share must be from 0 to 1"),
        (["--count", "5", "--profile", "carrier-pigeon"], "no profile 'carrier-pigeon'"),
    ],
)
def test_submit_names_bad_input(home: Path, arguments: list[str], problem: str) -> None:
    result = runner.invoke(claims_app, ["submit", *arguments])
    assert result.exit_code == 2
    assert problem in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (home / "messaging.db").exists()  # nothing was created


def test_submit_and_report_from_the_shell(home: Path) -> None:
    result = runner.invoke(
        claims_app, ["submit", "--count", "25", "--car-share", "0.01", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"Submitted": 25, "Profile": "two-queues"}
    report = json.loads(runner.invoke(claims_app, ["report", "--json"]).stdout)
    assert sum(row["submitted"] for row in report.values()) == 25
    table = runner.invoke(claims_app, ["report"]).stdout
    assert "submitted" in table and "other" in table
    assert runner.invoke(claims_app, ["report", "--reset"]).exit_code == 0
    assert json.loads(runner.invoke(claims_app, ["report", "--json"]).stdout) == {}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_the_running_design_processes_every_claim(
    home: Path, engine: MessagingEngine, profile: str
) -> None:
    topology = PROFILES[profile]()
    with supervised([topology], home, f"sqlite:///{home}/messaging.db"):
        pace(Submitter(topology, engine, Ledger()).submit, claims(0.25, random.Random(5)), count=40)
        deadline = time.monotonic() + 15
        while sum(row["processed"] for row in Ledger().report().values()) < 40:
            assert time.monotonic() < deadline, f"not all processed: {Ledger().report()}"
            time.sleep(0.1)
    report = Ledger().report()
    assert {t: row["processed"] for t, row in report.items()} == {
        t: row["submitted"] for t, row in report.items()
    }
    assert all(row["duplicates"] == row["dead_lettered"] == 0 for row in report.values())
