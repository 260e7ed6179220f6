"""Alembic's environment for the storefront, configured in code (no ``alembic.ini``).

:func:`archlab.systems.storefront.database.migrate` hands over an open connection (on SQLite,
with ``BEGIN IMMEDIATE`` and the pragmas applied). The whole upgrade is one transaction: SQLite
and PostgreSQL both have transactional DDL, so a failed migration leaves nothing half done, and
on PostgreSQL an advisory lock makes concurrent upgrades wait for each other, not collide.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from archlab.systems.storefront.models import Base

MIGRATION_LOCK = 0x5F0E_0001
"""The advisory lock key PostgreSQL upgrades take (any constant, the same for every process)."""


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


given = context.config.attributes.get("connection")
if context.is_offline_mode() or given is None:
    raise SystemExit(
        "storefront migrations run through archlab.systems.storefront.database.migrate"
    )
run(given)
