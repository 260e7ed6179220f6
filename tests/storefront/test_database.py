"""The database tier on SQLite: migrations from empty (matching the models, seeding the
catalogue, safe to repeat and to race), connections set up for many processes, and URLs
checked with errors that name their variable."""

from __future__ import annotations

import multiprocessing
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from archlab.systems.purchases.topology import COVERAGES
from archlab.systems.storefront import database
from archlab.systems.storefront.database import (
    Database,
    InvalidDatabaseUrl,
    WriteTurn,
    connect,
    lsn,
    migrate,
    normalise,
)
from archlab.systems.storefront.models import Base, Product
from archlab.systems.storefront.products import PRODUCTS

TABLES = {"products", "carts", "cart_items", "orders", "order_items", "checkout_requests"}


def test_the_catalogue_is_sound() -> None:
    assert 8 <= len(PRODUCTS) <= 12
    assert len({p.id for p in PRODUCTS}) == len(PRODUCTS)
    assert {p.coverage for p in PRODUCTS} == set(COVERAGES)
    for product in PRODUCTS:
        assert product.id.startswith(product.coverage + "-") and product.id.islower()
        assert product.monthly_premium == product.monthly_premium.quantize(Decimal("0.01"))
        assert product.monthly_premium > 0 and product.currency == "USD" and product.features


def test_migrations_upgrade_an_empty_database_to_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/storefront.db"  # the directory is made
    migrate(url)
    engine = connect(normalise(url))
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= TABLES
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert revision == "0001"
    with Session(engine) as session:
        rows = session.scalars(select(Product).order_by(Product.position)).all()
        assert [(r.id, r.monthly_premium_cents) for r in rows] == [
            (p.id, int(p.monthly_premium * 100)) for p in PRODUCTS
        ]
        assert rows[0].features == list(PRODUCTS[0].features)
    engine.dispose()


def test_migrating_again_or_from_several_processes_at_once_changes_nothing(
    tmp_path: Path,
) -> None:
    """Each process's upgrade is one ``BEGIN IMMEDIATE`` transaction: the first does the work,
    the others wait, then find it done. (Processes, as the runtime's are: Alembic's context is
    global to a process, so one process migrates one database at a time.)"""
    url = f"sqlite:///{tmp_path}/storefront.db"
    forking = multiprocessing.get_context("fork")
    processes = [forking.Process(target=migrate, args=(url,)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    migrate(url)
    engine = connect(normalise(url))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM products")).scalar() == len(PRODUCTS)
    engine.dispose()


def _count_in_turns(database: Path, counter: Path, times: int) -> None:
    """Read, wait, write ``times`` times: only a lock held across all three keeps every
    increment."""
    turn = WriteTurn(database)

    def one_thread() -> None:
        for _ in range(times):
            with turn:
                seen = int(counter.read_text())
                time.sleep(0.0005)
                counter.write_text(str(seen + 1))

    threads = [threading.Thread(target=one_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    turn.close()


def test_writers_take_turns_across_threads_and_processes(tmp_path: Path) -> None:
    database, counter = tmp_path / "storefront.db", tmp_path / "counter"
    counter.write_text("0")
    forking = multiprocessing.get_context("fork")
    processes = [
        forking.Process(target=_count_in_turns, args=(database, counter, 50)) for _ in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    assert int(counter.read_text()) == 3 * 2 * 50


def test_migrate_without_a_url_migrates_the_configured_primary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(database.PRIMARY_VARIABLE, raising=False)
    assert database.primary_url() == f"sqlite:///{tmp_path}/home/storefront.db"
    migrate()
    assert (tmp_path / "home" / "storefront.db").exists()
    monkeypatch.setenv(database.PRIMARY_VARIABLE, f"sqlite:///{tmp_path}/other.db")
    migrate()
    assert (tmp_path / "other.db").exists()


def test_sqlite_connections_are_set_up_for_many_processes(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    pragmas = db.read(
        lambda session: [
            session.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        ]
    )
    assert pragmas.value == ["wal", 2, 10_000, 1]  # synchronous 2 is FULL
    assert pragmas.source == "primary"
    written = db.write(lambda session: session.execute(text("SELECT 1")).scalar())
    assert (written.value, written.token) == (1, "")
    db.dispose()


def test_a_read_only_sees_what_was_committed(sqlite_url: str) -> None:
    db = Database(sqlite_url)

    def fail(session: Session) -> None:
        session.execute(text("DELETE FROM products"))
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        db.write(fail)
    count = db.read(lambda session: session.execute(text("SELECT count(*) FROM products")).scalar())
    assert count.value == len(PRODUCTS)
    db.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://shop@db.internal:5432/shop", "postgresql+psycopg://shop@db.internal:5432/shop"),
        ("postgres://shop:pw@127.0.0.1/shop", "postgresql+psycopg://shop:pw@127.0.0.1/shop"),
        ("postgresql+psycopg://shop@127.0.0.1/shop", "postgresql+psycopg://shop@127.0.0.1/shop"),
        ("postgresql:///shop?host=/run/postgresql", "postgresql+psycopg:///shop?host=%2Frun%2Fpostgresql"),
        ("sqlite:///relative/shop.db", "sqlite:///relative/shop.db"),
        ("sqlite:////absolute/shop.db", "sqlite:////absolute/shop.db"),
    ],
)  # fmt: skip
def test_urls_are_normalised_to_psycopg_3(url: str, expected: str) -> None:
    assert normalise(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://shop@127.0.0.1/shop",
        "postgresql+psycopg2://shop@127.0.0.1/shop",
        "postgresql:///shop",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite://host/shop.db",
        "redis://127.0.0.1:6379/0",
    ],
)
def test_unusable_urls_are_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(InvalidDatabaseUrl, match=database.REPLICA_VARIABLE):
        normalise(url, database.REPLICA_VARIABLE)


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(InvalidDatabaseUrl) as refused:
        normalise("mysql://shop:hunter2@127.0.0.1/shop")
    assert "hunter2" not in str(refused.value) and database.PRIMARY_VARIABLE in str(refused.value)


def test_a_replica_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(InvalidDatabaseUrl, match="PostgreSQL"):
        Database(f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db")


def test_the_environment_configures_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(database.PRIMARY_VARIABLE, "mysql://nope")
    with pytest.raises(InvalidDatabaseUrl, match=database.PRIMARY_VARIABLE):
        Database.from_environment()
    monkeypatch.setenv(database.PRIMARY_VARIABLE, f"sqlite:///{tmp_path}/s.db")
    monkeypatch.setenv(database.REPLICA_VARIABLE, "")
    assert database.replica_url() is None
    Database.from_environment().dispose()


def test_lsns_compare_as_positions() -> None:
    assert lsn("0/0") == 0
    assert lsn("0/16B3748") < lsn("0/16B3750") < lsn("1/0")
    assert lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
