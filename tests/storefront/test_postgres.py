"""The database tier on a real PostgreSQL primary and streaming replica (started by the
``postgres`` fixture): migrations, writes on the primary with a read-after token, reads served
by the replica unless it has not replayed the reader's last write, reads that survive the
replica's outage, and an app that recovers by itself when the primary restarts."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from archlab.clock import ManualClock
from archlab.systems.storefront.api import create_app
from archlab.systems.storefront.cache import MemoryCache, NoCache
from archlab.systems.storefront.database import Database, connect, migrate, normalise
from archlab.systems.storefront.models import Base
from archlab.systems.storefront.products import PRODUCTS
from archlab.testing.postgres import PostgresPair
from tests.storefront.shop import CHECKOUT

TOKEN = re.compile(r"[0-9A-F]{1,8}/[0-9A-F]{1,8}")
READ_AFTER = "X-Archlab-Read-After"


@pytest.fixture
def databases(postgres: PostgresPair) -> Iterator[list[Database]]:
    made: list[Database] = []
    yield made
    for database in made:
        database.dispose()


@pytest.fixture
def session() -> str:
    """A session of the test's own: the database is shared by the whole test session."""
    return f"pg-{uuid.uuid4().hex}"


def routed(postgres: PostgresPair, databases: list[Database], replica: bool = True) -> Database:
    database = Database(
        postgres.primary.url(),
        postgres.replica.url() if replica else None,
        replica_rest_s=0.2,
    )
    databases.append(database)
    return database


def app(database: Database) -> TestClient:
    return TestClient(create_app(database, MemoryCache(), clock=ManualClock(), feed=lambda o: 0))


def put(client: TestClient, session: str, product_id: str, quantity: int) -> Any:
    response = client.put(
        f"/api/cart/items/{product_id}",
        json={"quantity": quantity},
        headers={"X-Session-Id": session},
    )
    assert response.status_code == 200, response.text
    return response


def quantity(client: TestClient, session: str, token: str | None = None) -> int:
    sent = {"X-Session-Id": session, **({READ_AFTER: token} if token else {})}
    response = client.get("/api/cart", headers=sent)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return int(items[0]["quantity"]) if items else 0


def test_migrations_reach_the_models_on_postgresql_and_the_replica(
    postgres: PostgresPair,
) -> None:
    migrate(postgres.primary.url())  # again: nothing to do
    postgres.wait_replayed(postgres.current())
    for server in (postgres.primary, postgres.replica):
        engine = connect(normalise(server.url()))
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
            count = connection.execute(text("SELECT count(*) FROM products")).scalar()
            assert count == len(PRODUCTS)
        engine.dispose()


def test_a_write_lands_on_the_primary_and_answers_its_position(
    postgres: PostgresPair, databases: list[Database], session: str
) -> None:
    client = app(routed(postgres, databases))
    token = put(client, session, "car-essential", 3).headers[READ_AFTER]
    assert TOKEN.fullmatch(token)
    assert (
        postgres.primary.query("SELECT quantity FROM cart_items WHERE session_id = %s", session)
        == 3
    )
    assert postgres.primary.query("SELECT pg_current_wal_lsn() >= %s::pg_lsn", token)


def test_reads_come_from_the_replica_unless_it_lacks_the_readers_write(
    postgres: PostgresPair, databases: list[Database], session: str
) -> None:
    database = routed(postgres, databases)
    client = app(database)
    first = put(client, session, "home-complete", 1).headers[READ_AFTER]
    postgres.wait_replayed(first)
    postgres.replica.query("SELECT pg_wal_replay_pause()")
    try:
        second = put(client, session, "home-complete", 2).headers[READ_AFTER]
        assert quantity(client, session) == 1  # the paused replica answered: it serves reads
        assert quantity(client, session, first) == 1  # it has the first write
        assert quantity(client, session, second) == 2  # not the second: the primary answers

        def probe(s: Session) -> Any:
            return s.execute(text("SELECT pg_is_in_recovery()")).scalar()

        assert database.read(probe, first).source == "replica"
        assert database.read(probe, first).value is True
        assert database.read(probe, second).source == "primary"
        assert database.read(probe, second).value is False
    finally:
        postgres.replica.query("SELECT pg_wal_replay_resume()")
    postgres.wait_replayed(second)
    assert quantity(client, session) == 2
    assert database.read(probe, second).source == "replica"


def test_racing_checkouts_on_postgresql_make_one_order(
    postgres: PostgresPair, databases: list[Database], session: str
) -> None:
    clients = [app(routed(postgres, databases)) for _ in range(4)]
    put(clients[0], session, "life-term-20", 1)
    put(clients[0], session, "pet-lifetime", 2)
    barrier = threading.Barrier(len(clients))
    answers: list[Any] = [None] * len(clients)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = clients[index].post(
            "/api/checkout",
            json=CHECKOUT,
            headers={"X-Session-Id": session, "Idempotency-Key": "one-click"},
        )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(a.status_code for a in answers) == {201: 1, 200: 3}
    assert len({a.json()["order"]["id"] for a in answers}) == 1
    assert postgres.primary.query("SELECT count(*) FROM orders WHERE session_id = %s", session) == 1
    token = answers[0].headers[READ_AFTER]
    listed = clients[1].get("/api/orders", headers={"X-Session-Id": session, READ_AFTER: token})
    assert [o["id"] for o in listed.json()["orders"]] == [answers[0].json()["order"]["id"]]


def test_reads_survive_the_replica_going_down(
    postgres: PostgresPair,
    databases: list[Database],
    session: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    database = routed(postgres, databases)
    client = TestClient(create_app(database, NoCache(), clock=ManualClock(), feed=lambda o: 0))
    token = put(client, session, "travel-annual", 4).headers[READ_AFTER]
    postgres.wait_replayed(token)
    assert quantity(client, session) == 4
    postgres.replica.stop("immediate")
    try:
        for _ in range(3):
            assert len(client.get("/api/products").json()["products"]) == len(PRODUCTS)
            assert quantity(client, session) == 4
            assert quantity(client, session, token) == 4
        assert any("replica unreachable" in r.getMessage() for r in caplog.records)
    finally:
        postgres.replica.start()
    postgres.wait_streaming()

    def probe(s: Session) -> Any:
        return s.execute(text("SELECT 1")).scalar()

    for _ in range(50):  # once its rest (0.2 s here) is over, the replica is asked again
        if database.read(probe).source == "replica":
            break
        time.sleep(0.05)
    assert database.read(probe).source == "replica"


def test_the_app_recovers_by_itself_when_the_primary_restarts(
    postgres: PostgresPair, databases: list[Database], session: str
) -> None:
    with_replica = app(routed(postgres, databases))
    primary_only = app(routed(postgres, databases, replica=False))
    for client in (with_replica, primary_only):
        token = put(client, session, "car-comprehensive", 1).headers[READ_AFTER]
        # pools now hold connections to the old server; without the token a replica may lag
        assert quantity(client, session, token) == 1
    postgres.primary.restart()
    for number, client in enumerate((with_replica, primary_only), start=2):
        token = put(client, session, "car-comprehensive", number).headers[READ_AFTER]
        assert quantity(client, session, token) == number
        assert quantity(client, session) in (number - 1, number)  # a replica may lag a moment
        assert client.get("/api/products/car-comprehensive").status_code == 200
    postgres.wait_streaming()
