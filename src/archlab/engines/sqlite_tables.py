"""The embedded table engine: DynamoDB-style tables in one SQLite file, shared by processes.

Durability and atomicity as in the messaging engine: WAL with ``synchronous=FULL`` (a write
that returned survives a SIGKILL, and a power cut), one connection per thread, and every write
one ``BEGIN IMMEDIATE`` transaction that reads the old item, tests the condition and writes —
so a conditional write is atomic across processes, which is what optimistic concurrency needs.
Reads take no write lock.

Storage: one row per item, ``(tbl, pk, sk)`` its primary key and so the index a query ranges
over. ``pk`` and ``sk`` hold the key values in a *sortable* encoding, bytes whose order (SQLite
compares blobs with memcmp) is DynamoDB's order for the key's type:

- S: the UTF-8 bytes (byte order is code point order, as DynamoDB sorts strings);
- B: the bytes themselves (unsigned);
- N: a sign byte (0 negative, 1 zero, 2 positive), then for positives the order of magnitude
  (the decimal exponent, two bytes, biased) and the significant digits, one byte each;
  negatives store the same with every byte inverted and a terminator above any inverted digit,
  so that larger magnitudes sort first and -0.5 sorts after -0.51. Equal numbers (1, 1.0,
  1.00) encode alike.

A table without a sort key stores ``sk = x''``. The item itself is JSON text in DynamoDB's own
attribute-value form (``{"S": "a"}``, ``{"N": "1.5"}``, ``{"B": base64}``, ``{"BOOL": true}``,
``{"NULL": true}``, ``{"L": [...]}``, ``{"M": {...}}``): reversible for every value — numbers
keep every digit as text, bytes survive as base64 — and readable by anyone who knows DynamoDB.
``size`` keeps the item's DynamoDB size, so that ending a page at 1 MB recomputes nothing.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from archlab.blocks.errors import ConditionalCheckFailed, TableInUse, TableNotFound
from archlab.engines.sqlitefile import SqliteFile
from archlab.engines.tables import (
    PAGE_BYTES,
    Condition,
    Item,
    KeySchema,
    QueryResult,
    SortCondition,
    check_item_size,
    item_size,
    key_of,
    number_parts,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_tables (
    name TEXT PRIMARY KEY,
    schema TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv_items (
    tbl TEXT NOT NULL,
    pk BLOB NOT NULL,
    sk BLOB NOT NULL,
    item TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (tbl, pk, sk)
);
"""

EXPONENT_BIAS = 1 << 15
NEGATIVE_END = 10
"""Ends a negative number's inverted digits (each 9 - digit, so at most 9)."""

SORT_CLAUSES = {
    "=": "sk = ?",
    "<": "sk < ?",
    "<=": "sk <= ?",
    ">": "sk > ?",
    ">=": "sk >= ?",
    "between": "sk BETWEEN ? AND ?",
}


class SqliteTableEngine:
    """Tables in the SQLite database at ``path``; one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._file = SqliteFile(self.path)
        with self._file.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    def close(self) -> None:
        self._file.close()

    # --- tables -------------------------------------------------------------------------------

    def create_table(self, name: str, schema: KeySchema) -> None:
        with self._file.write() as db:
            row = db.execute("SELECT schema FROM kv_tables WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if KeySchema(**json.loads(row[0])) != schema:
                    raise TableInUse(f"Table already exists: {name} (with another key schema)")
                return
            db.execute(
                "INSERT INTO kv_tables (name, schema) VALUES (?, ?)",
                (name, json.dumps(asdict(schema))),
            )

    def describe_table(self, name: str) -> KeySchema:
        return _schema(self._file.connection, name)

    def delete_table(self, name: str) -> None:
        with self._file.write() as db:
            _schema(db, name)
            db.execute("DELETE FROM kv_items WHERE tbl = ?", (name,))
            db.execute("DELETE FROM kv_tables WHERE name = ?", (name,))

    # --- items --------------------------------------------------------------------------------

    def put_item(
        self, table: str, item: Item, condition: Condition | None, return_old: bool
    ) -> Item | None:
        with self._file.write() as db:
            location = _location(_schema(db, table), item)
            old = _read(db, table, location)
            _check(condition, old)
            _write(db, table, location, item)
        return old if return_old else None

    def get_item(self, table: str, key: Item) -> Item | None:
        with self._file.read() as db:
            location = _location(_schema(db, table), key)
            return _read(db, table, location)

    def update_item(
        self,
        table: str,
        key: Item,
        set_attributes: Item,
        remove_attributes: list[str],
        condition: Condition | None,
    ) -> Item:
        with self._file.write() as db:
            location = _location(_schema(db, table), key)
            old = _read(db, table, location)
            _check(condition, old)
            new = {**(old or key), **set_attributes}
            for name in remove_attributes:
                new.pop(name, None)
            check_item_size(new, "Item size to update has exceeded the maximum allowed size")
            _write(db, table, location, new)
        return new

    def delete_item(
        self, table: str, key: Item, condition: Condition | None, return_old: bool
    ) -> Item | None:
        with self._file.write() as db:
            location = _location(_schema(db, table), key)
            old = _read(db, table, location)
            _check(condition, old)
            db.execute(
                "DELETE FROM kv_items WHERE tbl = ? AND pk = ? AND sk = ?", (table, *location)
            )
        return old if return_old else None

    # --- reads --------------------------------------------------------------------------------

    def query(
        self,
        table: str,
        partition_value: Any,
        sort: SortCondition | None,
        limit: int | None,
        exclusive_start_key: Item | None,
        forward: bool,
    ) -> QueryResult:
        clauses, parameters = _sort_clauses(sort)
        with self._file.read() as db:
            schema = _schema(db, table)
            if exclusive_start_key is not None:
                clauses += " AND sk > ?" if forward else " AND sk < ?"
                parameters.append(_location(schema, exclusive_start_key)[1])
            sql = (
                "SELECT item, size FROM kv_items WHERE tbl = ? AND pk = ?"
                f"{clauses} ORDER BY sk {'ASC' if forward else 'DESC'} LIMIT ?"
            )
            arguments = (table, _sortable(partition_value), *parameters, limit or -1)
            return _page(db.execute(sql, arguments), schema, limit)

    def scan(self, table: str, limit: int | None, exclusive_start_key: Item | None) -> QueryResult:
        with self._file.read() as db:
            schema = _schema(db, table)
            after = ""
            parameters: list[Any] = [table]
            if exclusive_start_key is not None:
                after = " AND (pk, sk) > (?, ?)"
                parameters.extend(_location(schema, exclusive_start_key))
            sql = f"SELECT item, size FROM kv_items WHERE tbl = ?{after} ORDER BY pk, sk LIMIT ?"
            return _page(db.execute(sql, (*parameters, limit or -1)), schema, limit)


def _schema(db: sqlite3.Connection, table: str) -> KeySchema:
    row = db.execute("SELECT schema FROM kv_tables WHERE name = ?", (table,)).fetchone()
    if row is None:
        raise TableNotFound(f"Requested resource not found: Table: {table} not found")
    return KeySchema(**json.loads(row[0]))


def _location(schema: KeySchema, item: Item) -> tuple[bytes, bytes]:
    """Where an item (or the item a key names) lives: its (pk, sk) columns."""
    checked = key_of(schema, item)
    sort = _sortable(checked[schema.sort_key]) if schema.sort_key is not None else b""
    return _sortable(checked[schema.partition_key]), sort


def _read(db: sqlite3.Connection, table: str, location: tuple[bytes, bytes]) -> Item | None:
    row = db.execute(
        "SELECT item FROM kv_items WHERE tbl = ? AND pk = ? AND sk = ?", (table, *location)
    ).fetchone()
    return _decode_item(row[0]) if row is not None else None


def _write(db: sqlite3.Connection, table: str, location: tuple[bytes, bytes], item: Item) -> None:
    db.execute(
        "INSERT INTO kv_items (tbl, pk, sk, item, size) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (tbl, pk, sk) DO UPDATE SET item = excluded.item, size = excluded.size",
        (table, *location, _encode_item(item), item_size(item)),
    )


def _check(condition: Condition | None, item: Item | None) -> None:
    if condition is not None and not condition.test(item):
        raise ConditionalCheckFailed("The conditional request failed")


def _page(rows: sqlite3.Cursor, schema: KeySchema, limit: int | None) -> QueryResult:
    """Items from ``rows`` until ``limit`` or PAGE_BYTES; the last one's key if either ended it."""
    items: list[Item] = []
    size = 0
    try:
        for text, item_bytes in rows:
            items.append(_decode_item(text))
            size += item_bytes
            if size >= PAGE_BYTES:
                break
    finally:
        rows.close()
    full = size >= PAGE_BYTES or (limit is not None and len(items) == limit)
    return QueryResult(items, key_of(schema, items[-1]) if full else None)


def _sort_clauses(sort: SortCondition | None) -> tuple[str, list[bytes]]:
    """The SQL conditions on ``sk`` (each a range over the index) and their parameters."""
    if sort is None:
        return "", []
    values = [_sortable(value) for value in sort.values]
    if sort.operator != "begins_with":
        return f" AND {SORT_CLAUSES[sort.operator]}", values
    prefix = values[0]
    end = prefix.rstrip(b"\xff")
    if not end:
        return " AND sk >= ?", [prefix]
    return " AND sk >= ? AND sk < ?", [prefix, end[:-1] + bytes([end[-1] + 1])]


# --- encodings ----------------------------------------------------------------------------------


def _sortable(value: Any) -> bytes:
    """A key value as bytes whose memcmp order is DynamoDB's order for its type."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    sign, digits, exponent = number_parts(value)
    if not digits:
        return b"\x01"
    magnitude = (exponent + len(digits) + EXPONENT_BIAS).to_bytes(2, "big")
    if sign == 0:
        return b"\x02" + magnitude + bytes(digits)
    inverted = bytes(255 - byte for byte in magnitude)
    return b"\x00" + inverted + bytes(9 - digit for digit in digits) + bytes([NEGATIVE_END])


def _encode_item(item: Item) -> str:
    return json.dumps(
        {name: _encode(value) for name, value in item.items()},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _encode(value: Any) -> dict[str, Any]:
    """A canonical value in DynamoDB's attribute-value JSON."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_encode(element) for element in value]}
    return {"M": {name: _encode(element) for name, element in value.items()}}


def _decode_item(text: str) -> Item:
    return {name: _decode(value) for name, value in json.loads(text).items()}


def _decode(value: dict[str, Any]) -> Any:
    ((tag, raw),) = value.items()
    if tag == "S" or tag == "BOOL":
        return raw
    if tag == "N":
        return int(raw) if raw.lstrip("-").isdigit() else Decimal(raw)
    if tag == "B":
        return base64.b64decode(raw)
    if tag == "L":
        return [_decode(element) for element in raw]
    if tag == "M":
        return {name: _decode(element) for name, element in raw.items()}
    return None  # NULL
