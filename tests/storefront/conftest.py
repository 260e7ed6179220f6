"""Fixtures for the storefront's application and data tiers: a migrated SQLite database in a
temporary directory, apps over it with a manual clock, and the purchases each checkout fed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archlab.clock import ManualClock
from archlab.systems.storefront.api import create_app
from archlab.systems.storefront.cache import Cache, MemoryCache
from archlab.systems.storefront.database import Database, migrate
from archlab.testing.postgres import PostgresPair, missing
from tests.conftest import REQUIRE_EXTERNALS
from tests.storefront.shop import AppFactory


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/storefront.db"
    migrate(url)
    return url


@pytest.fixture
def fed() -> list[dict[str, Any]]:
    """The orders the apps handed to the purchases feed."""
    return []


@pytest.fixture
def make_client(sqlite_url: str, fed: list[dict[str, Any]]) -> Iterator[AppFactory]:
    """A TestClient over a new app instance; instances made by one test share the database."""
    databases: list[Database] = []

    def make(
        cache: Cache | None = None,
        database: Database | None = None,
        clock: ManualClock | None = None,
    ) -> TestClient:
        if database is None:
            database = Database(sqlite_url)
            databases.append(database)
        app = create_app(
            database, cache or MemoryCache(), clock=clock or ManualClock(), feed=fed.append
        )
        return TestClient(app)

    yield make
    for database in databases:
        database.dispose()


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresPair]:
    """A PostgreSQL primary with a streaming replica, migrated, for the whole session."""
    reason = missing()
    if reason is not None:
        if REQUIRE_EXTERNALS:
            pytest.fail(reason)
        pytest.skip(reason)
    pair = PostgresPair()
    try:
        pair.start()
        migrate(pair.primary.url())
        yield pair
    finally:
        pair.stop()
