"""The work ledger a system's handlers share: what was submitted and what was processed, in one
SQLite file (WAL, synchronous FULL) that every process of the system opens.

Handlers are idempotent through it: the first processing of an item by a handler inserts its
row; a second delivery of the same item to that handler (after a crash between processing and
deleting, say) finds the row and is recorded as a duplicate instead of being processed again.
Rows are keyed by item and kind, so one item may be processed once by each of several handlers
(a car purchase by the car backend and by underwriting review). Reports and windows read it:
that is how a system's report and its benchmarks see latency from submission to processing.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlab.engines.sqlitefile import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS submitted (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, submitted_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS processed (
    id TEXT NOT NULL, kind TEXT NOT NULL, submitted_at REAL NOT NULL,
    processed_at REAL NOT NULL, worker INTEGER NOT NULL, PRIMARY KEY (id, kind));
CREATE TABLE IF NOT EXISTS duplicates (
    id TEXT NOT NULL, kind TEXT NOT NULL, at REAL NOT NULL, worker INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_lettered (
    id TEXT NOT NULL, kind TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (id, kind));
"""
TABLES = ("submitted", "processed", "duplicates", "dead_lettered")


@dataclass(frozen=True)
class Item:
    """One piece of work: a purchase, a claim. ``kind`` is what the report groups by."""

    id: str
    kind: str
    submitted_at: float


class WorkLedger:
    def __init__(self, path: Path, submitted_label: str = "submitted") -> None:
        self.path = path
        self.submitted_label = submitted_label
        """What the report calls the submitted count ("published", for purchases)."""
        self._file = SqliteFile(path)
        with self._file.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    @property
    def _db(self) -> sqlite3.Connection:
        return self._file.connection

    def submitted(self, items: list[Item]) -> None:
        with self._file.write() as db:
            db.executemany(
                "INSERT OR IGNORE INTO submitted VALUES (?, ?, ?)",
                [(i.id, i.kind, i.submitted_at) for i in items],
            )

    def processed(self, item: Item, at: float, worker: int) -> bool:
        """Record the processing; False (and a duplicate recorded) if it was already done."""
        with self._file.write() as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO processed VALUES (?, ?, ?, ?, ?)",
                (item.id, item.kind, item.submitted_at, at, worker),
            ).rowcount
            if not inserted:
                db.execute(
                    "INSERT INTO duplicates VALUES (?, ?, ?, ?)", (item.id, item.kind, at, worker)
                )
        return bool(inserted)

    def dead_lettered(self, item: Item, at: float) -> None:
        with self._file.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO dead_lettered VALUES (?, ?, ?)", (item.id, item.kind, at)
            )

    def report(self) -> dict[str, dict[str, Any]]:
        """Per kind: submitted (under ``submitted_label``), processed, duplicates,
        dead_lettered, and the p50/p99 milliseconds from submission to processing."""
        db = self._db
        result: dict[str, dict[str, Any]] = {}
        for table in TABLES:
            label = self.submitted_label if table == "submitted" else table
            for kind, n in db.execute(f"SELECT kind, count(*) FROM {table} GROUP BY kind"):
                result.setdefault(kind, self._empty())[label] = n
        for kind, row in result.items():
            waits = [
                (done - submitted) * 1000
                for done, submitted in db.execute(
                    "SELECT processed_at, submitted_at FROM processed WHERE kind = ?", (kind,)
                )
            ]
            row["p50_ms"] = percentile(waits, 50)
            row["p99_ms"] = percentile(waits, 99)
        return dict(sorted(result.items()))

    def _empty(self) -> dict[str, Any]:
        return {self.submitted_label: 0, "processed": 0, "duplicates": 0, "dead_lettered": 0}

    def window(self, start: float, end: float, horizon: float) -> dict[str, dict[str, Any]]:
        """The items submitted in [start, end), per kind, as seen at ``horizon``: how many were
        processed by then, and the p50/p99 milliseconds from submission to processing -- an
        item not processed by the horizon counts with its wait so far, so a backlog that never
        clears raises the percentiles instead of vanishing from them."""
        rows = self._db.execute(
            "SELECT s.kind, s.submitted_at, p.processed_at FROM submitted s"
            " LEFT JOIN processed p ON p.id = s.id AND p.kind = s.kind"
            " WHERE s.submitted_at >= ? AND s.submitted_at < ?",
            (start, end),
        )
        waits: dict[str, list[float]] = {}
        processed: dict[str, int] = {}
        for kind, submitted_at, processed_at in rows:
            done = processed_at is not None and processed_at <= horizon
            processed[kind] = processed.get(kind, 0) + done
            waits.setdefault(kind, []).append(
                ((processed_at if done else horizon) - submitted_at) * 1000
            )
        return {
            kind: {
                self.submitted_label: len(values),
                "processed": processed[kind],
                "p50_ms": percentile(values, 50),
                "p99_ms": percentile(values, 99),
            }
            for kind, values in sorted(waits.items())
        }

    def submitted_ids(self) -> list[str]:
        return [i for (i,) in self._db.execute("SELECT id FROM submitted")]

    def processed_ids(self) -> list[str]:
        return [i for (i,) in self._db.execute("SELECT id FROM processed")]

    def duplicate_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM duplicates").fetchone()[0])

    def reset(self) -> None:
        with self._file.write() as db:
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        self._file.close()


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile, rounded to 0.1 ms; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)
