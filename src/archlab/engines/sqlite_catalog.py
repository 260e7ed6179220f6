"""The embedded catalog engine: Glue databases, tables and partitions in one SQLite file.

Durability and sharing as in the other embedded engines (``SqliteFile``): WAL with
``synchronous=FULL``, a connection per thread, every change one ``BEGIN IMMEDIATE``
transaction, so processes share one catalog and a batch of partitions is created whole or,
entry by entry, not at all.

Storage: each table's latest version is a row of ``catalog_tables`` and every version
(the latest included) a row of ``catalog_table_versions``, so an update is one insert and one
overwrite; bodies are JSON. A partition's key is its values as compact JSON text: unique for
each list of values, and the order partitions are listed and paged in. Filters are tested in
Python with ``Predicate.test`` on the decoded values, reading bodies only of the partitions
selected: a table's partitions are thousands, not billions, and typed comparisons (``9 < 10``
for an int key whose values are text) need no SQL translation this way.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from archlab.blocks.errors import (
    AlreadyExists,
    ConcurrentModification,
    EntityNotFound,
    InvalidInput,
)
from archlab.engines.catalogs import (
    CatalogTable,
    Column,
    Database,
    Page,
    Partition,
    PartitionError,
    Predicate,
    page_token,
    token_position,
)
from archlab.engines.sqlitefile import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS catalog_databases (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog_tables (
    db TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (db, name)
);
CREATE TABLE IF NOT EXISTS catalog_table_versions (
    db TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (db, name, version)
);
CREATE TABLE IF NOT EXISTS catalog_partitions (
    db TEXT NOT NULL,
    tbl TEXT NOT NULL,
    vals TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (db, tbl, vals)
);
"""


class SqliteCatalogEngine:
    """A catalog in the SQLite database at ``path``; one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._file = SqliteFile(self.path)
        with self._file.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    def close(self) -> None:
        self._file.close()

    # --- databases ----------------------------------------------------------------------------

    def create_database(self, database: Database) -> None:
        with self._file.write() as db:
            if _database_exists(db, database.name):
                raise AlreadyExists(f"Database {database.name} already exists.")
            db.execute(
                "INSERT INTO catalog_databases (name, body) VALUES (?, ?)",
                (database.name, _dump(asdict(database))),
            )

    def get_database(self, name: str) -> Database:
        with self._file.read() as db:
            row = db.execute(
                "SELECT body FROM catalog_databases WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise _database_not_found(name)
        return Database(**json.loads(row[0]))

    def get_databases(self, limit: int, next_token: str | None) -> Page[Database]:
        after = "" if next_token is None else token_position("databases", next_token)
        with self._file.read() as db:
            rows = db.execute(
                "SELECT name, body FROM catalog_databases WHERE name > ? ORDER BY name LIMIT ?",
                (after, limit + 1),
            ).fetchall()
        databases = [Database(**json.loads(body)) for _, body in rows[:limit]]
        return _page("databases", databases, len(rows) > limit, lambda d: d.name)

    def delete_database(self, name: str) -> None:
        with self._file.write() as db:
            if not _database_exists(db, name):
                raise _database_not_found(name)
            for table in ("catalog_partitions", "catalog_table_versions", "catalog_tables"):
                db.execute(f"DELETE FROM {table} WHERE db = ?", (name,))
            db.execute("DELETE FROM catalog_databases WHERE name = ?", (name,))

    # --- tables -------------------------------------------------------------------------------

    def create_table(self, table: CatalogTable) -> None:
        with self._file.write() as db:
            if not _database_exists(db, table.database):
                raise _database_not_found(table.database)
            if _latest_version(db, table.database, table.name) is not None:
                raise AlreadyExists(f"Table {table.name} already exists.")
            _write_version(db, table, "INSERT")

    def get_table(self, database: str, name: str) -> CatalogTable:
        with self._file.read() as db:
            return _table(db, database, name)

    def get_tables(self, database: str, limit: int, next_token: str | None) -> Page[CatalogTable]:
        after = "" if next_token is None else token_position("tables", next_token)
        with self._file.read() as db:
            if not _database_exists(db, database):
                raise _database_not_found(database)
            rows = db.execute(
                "SELECT body FROM catalog_tables WHERE db = ? AND name > ? ORDER BY name LIMIT ?",
                (database, after, limit + 1),
            ).fetchall()
        tables = [_load_table(body) for (body,) in rows[:limit]]
        return _page("tables", tables, len(rows) > limit, lambda t: t.name)

    def update_table(self, table: CatalogTable) -> None:
        with self._file.write() as db:
            latest = _latest_version(db, table.database, table.name)
            if latest is None:
                raise _table_not_found(db, table.database, table.name)
            if latest != table.version_id - 1:
                raise ConcurrentModification(
                    f"Table {table.name} is at version {latest}, not {table.version_id - 1}:"
                    " it changed since it was read; read it again and retry"
                )
            _write_version(db, table, "REPLACE")

    def get_table_versions(
        self, database: str, name: str, limit: int, next_token: str | None
    ) -> Page[CatalogTable]:
        before = None if next_token is None else _version(token_position("versions", next_token))
        with self._file.read() as db:
            latest = _latest_version(db, database, name)
            if latest is None:
                raise _table_not_found(db, database, name)
            rows = db.execute(
                "SELECT body FROM catalog_table_versions WHERE db = ? AND name = ?"
                " AND version < ? ORDER BY version DESC LIMIT ?",
                (database, name, latest + 1 if before is None else before, limit + 1),
            ).fetchall()
        versions = [_load_table(body) for (body,) in rows[:limit]]
        return _page("versions", versions, len(rows) > limit, lambda t: str(t.version_id))

    def delete_table(self, database: str, name: str) -> None:
        with self._file.write() as db:
            if _latest_version(db, database, name) is None:
                raise _table_not_found(db, database, name)
            for table, column in (
                ("catalog_partitions", "tbl"),
                ("catalog_table_versions", "name"),
                ("catalog_tables", "name"),
            ):
                db.execute(f"DELETE FROM {table} WHERE db = ? AND {column} = ?", (database, name))

    # --- partitions ---------------------------------------------------------------------------

    def create_partitions(
        self, database: str, table: str, partitions: Sequence[Partition]
    ) -> list[PartitionError]:
        errors = []
        with self._file.write() as db:
            if _latest_version(db, database, table) is None:
                raise _table_not_found(db, database, table)
            for partition in partitions:
                inserted = db.execute(
                    "INSERT INTO catalog_partitions (db, tbl, vals, body) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (database, table, _dump(list(partition.values)), _partition_body(partition)),
                ).rowcount
                if not inserted:
                    message = f"Partition {list(partition.values)} already exists."
                    errors.append(PartitionError(partition.values, AlreadyExists.code, message))
        return errors

    def get_partition(self, database: str, table: str, values: Sequence[str]) -> Partition:
        with self._file.read() as db:
            row = db.execute(
                "SELECT body FROM catalog_partitions WHERE db = ? AND tbl = ? AND vals = ?",
                (database, table, _dump(list(values))),
            ).fetchone()
            if row is None:
                _table(db, database, table)
                raise EntityNotFound(f"Partition {list(values)} of table {table} not found.")
        return _load_partition(database, table, tuple(values), row[0])

    def get_partitions(
        self,
        database: str,
        table: str,
        predicate: Predicate | None,
        limit: int,
        next_token: str | None,
    ) -> Page[Partition]:
        after = "" if next_token is None else token_position("partitions", next_token)
        with self._file.read() as db:
            _table(db, database, table)
            rows = db.execute(
                "SELECT vals, body FROM catalog_partitions WHERE db = ? AND tbl = ? AND vals > ?"
                " ORDER BY vals",
                (database, table, after),
            )
            selected = _selected(rows, predicate, limit + 1)
        partitions = [_load_partition(database, table, values, body) for values, body in selected]
        more = len(partitions) > limit
        del partitions[limit:]
        return _page("partitions", partitions, more, lambda p: _dump(list(p.values)))

    def delete_partition(self, database: str, table: str, values: Sequence[str]) -> None:
        with self._file.write() as db:
            deleted = db.execute(
                "DELETE FROM catalog_partitions WHERE db = ? AND tbl = ? AND vals = ?",
                (database, table, _dump(list(values))),
            ).rowcount
            if not deleted:
                _table(db, database, table)
                raise EntityNotFound(f"Partition {list(values)} of table {table} not found.")


# --- reading and writing ------------------------------------------------------------------------


def _database_exists(db: sqlite3.Connection, name: str) -> bool:
    return (
        db.execute("SELECT 1 FROM catalog_databases WHERE name = ?", (name,)).fetchone() is not None
    )


def _database_not_found(name: str) -> EntityNotFound:
    return EntityNotFound(f"Database {name} not found.")


def _latest_version(db: sqlite3.Connection, database: str, name: str) -> int | None:
    row = db.execute(
        "SELECT version FROM catalog_tables WHERE db = ? AND name = ?", (database, name)
    ).fetchone()
    return None if row is None else int(row[0])


def _table(db: sqlite3.Connection, database: str, name: str) -> CatalogTable:
    row = db.execute(
        "SELECT body FROM catalog_tables WHERE db = ? AND name = ?", (database, name)
    ).fetchone()
    if row is None:
        raise _table_not_found(db, database, name)
    return _load_table(row[0])


def _table_not_found(db: sqlite3.Connection, database: str, name: str) -> EntityNotFound:
    """Glue's answer for a missing table names the database when that is what is missing."""
    if not _database_exists(db, database):
        return _database_not_found(database)
    return EntityNotFound(f"Table {name} not found in database {database}.")


def _write_version(db: sqlite3.Connection, table: CatalogTable, verb: str) -> None:
    body = _dump(asdict(table))
    db.execute(
        f"{verb} INTO catalog_tables (db, name, version, body) VALUES (?, ?, ?, ?)",
        (table.database, table.name, table.version_id, body),
    )
    db.execute(
        "INSERT INTO catalog_table_versions (db, name, version, body) VALUES (?, ?, ?, ?)",
        (table.database, table.name, table.version_id, body),
    )


def _selected(
    rows: sqlite3.Cursor, predicate: Predicate | None, wanted: int
) -> list[tuple[tuple[str, ...], str]]:
    """The first ``wanted`` rows whose values ``predicate`` selects, values decoded."""
    selected = []
    try:
        for text, body in rows:
            values = tuple(json.loads(text))
            if predicate is None or predicate.test(values):
                selected.append((values, body))
                if len(selected) == wanted:
                    break
    finally:
        rows.close()
    return selected


def _page(kind: str, items: list[Any], more: bool, position: Any) -> Page[Any]:
    return Page(items, page_token(kind, position(items[-1])) if more else None)


def _version(position: str) -> int:
    if not position.isdigit():
        raise InvalidInput(f"next_token does not name a table version ({position!r})")
    return int(position)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _load_table(body: str) -> CatalogTable:
    fields = json.loads(body)
    fields["columns"] = tuple(Column(**column) for column in fields["columns"])
    fields["partition_keys"] = tuple(Column(**column) for column in fields["partition_keys"])
    return CatalogTable(**fields)


def _partition_body(partition: Partition) -> str:
    return _dump(
        {
            "location": partition.location,
            "parameters": partition.parameters,
            "create_time": partition.create_time,
        }
    )


def _load_partition(database: str, table: str, values: tuple[str, ...], body: str) -> Partition:
    return Partition(database, table, values, **json.loads(body))
