"""Schemathesis against the API's own OpenAPI document, through the ASGI app: whatever the
generated requests (valid and not), no answer is a 5xx, every answer is one the document
lists, with the content type and shape it gives."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from archlab.clock import ManualClock
from archlab.systems.storefront.api import create_app
from archlab.systems.storefront.cache import MemoryCache
from archlab.systems.storefront.database import Database, migrate

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# Schemathesis reads the document at collection, so the app exists by then (its from_fixture
# loader does not work with this pytest). Making it touches no file: the database is made,
# migrated, when the module's tests run, and removed after them.
DATABASE_FILE = Path(tempfile.gettempdir()) / f"archlab-storefront-schema-{uuid.uuid4().hex}.db"
URL = f"sqlite:///{DATABASE_FILE}"
DATABASE = Database(URL)
APP = create_app(DATABASE, MemoryCache(), clock=ManualClock(), feed=lambda order: None)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _database() -> Iterator[None]:
    migrate(URL)
    yield
    DATABASE.dispose()
    for path in DATABASE_FILE.parent.glob(DATABASE_FILE.name + "*"):
        path.unlink()


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_no_request_makes_the_api_fail(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
