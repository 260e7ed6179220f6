"""The purchases ledger: what System A published and what the backends processed, in one SQLite
file under ARCHLAB_HOME shared by every process.

Backends are idempotent through it: the first processing of a purchase by a backend inserts its
row; a second delivery of the same purchase to that backend (after a crash between processing
and deleting, say) finds the row and is recorded as a duplicate instead of being processed
again. (A purchase may be processed by two backends -- a car purchase by the car backend and by
underwriting review -- hence rows keyed by purchase and backend.) The report reads it.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlab import settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS published (
    id TEXT PRIMARY KEY, coverage TEXT NOT NULL, published_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS processed (
    id TEXT NOT NULL, coverage TEXT NOT NULL, published_at REAL NOT NULL,
    processed_at REAL NOT NULL, worker INTEGER NOT NULL, PRIMARY KEY (id, coverage));
CREATE TABLE IF NOT EXISTS duplicates (
    id TEXT NOT NULL, coverage TEXT NOT NULL, at REAL NOT NULL, worker INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_lettered (
    id TEXT NOT NULL, coverage TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (id, coverage));
"""


def default_path() -> Path:
    return settings.home() / "purchases" / "ledger.db"


@dataclass(frozen=True)
class Purchase:
    id: str
    coverage: str
    published_at: float


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._db:
            self._db.executescript(SCHEMA)

    @property
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    def published(self, purchases: list[Purchase]) -> None:
        with self._db as db:
            db.executemany(
                "INSERT OR IGNORE INTO published VALUES (?, ?, ?)",
                [(p.id, p.coverage, p.published_at) for p in purchases],
            )

    def processed(self, purchase: Purchase, at: float, worker: int) -> bool:
        """Record the processing; False (and a duplicate recorded) if it was already done."""
        with self._db as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO processed VALUES (?, ?, ?, ?, ?)",
                (purchase.id, purchase.coverage, purchase.published_at, at, worker),
            ).rowcount
            if not inserted:
                db.execute(
                    "INSERT INTO duplicates VALUES (?, ?, ?, ?)",
                    (purchase.id, purchase.coverage, at, worker),
                )
        return bool(inserted)

    def dead_lettered(self, purchase: Purchase, at: float) -> None:
        with self._db as db:
            db.execute(
                "INSERT OR IGNORE INTO dead_lettered VALUES (?, ?, ?)",
                (purchase.id, purchase.coverage, at),
            )

    def report(self) -> dict[str, dict[str, Any]]:
        """Per coverage type: published, processed, duplicates, dead-lettered, and the p50/p99
        milliseconds from publish to processed."""
        db = self._db
        result: dict[str, dict[str, Any]] = {}

        def count(table: str) -> None:
            for coverage, n in db.execute(
                f"SELECT coverage, count(*) FROM {table} GROUP BY coverage"
            ):
                result.setdefault(coverage, _empty())[table] = n

        for table in ("published", "processed", "duplicates", "dead_lettered"):
            count(table)
        for coverage, row in result.items():
            latencies = [
                (done - published) * 1000
                for done, published in db.execute(
                    "SELECT processed_at, published_at FROM processed WHERE coverage = ?",
                    (coverage,),
                )
            ]
            row["p50_ms"] = percentile(latencies, 50)
            row["p99_ms"] = percentile(latencies, 99)
        return dict(sorted(result.items()))

    def window(self, start: float, end: float, horizon: float) -> dict[str, dict[str, Any]]:
        """The purchases published in [start, end), per coverage type, as seen at ``horizon``:
        how many were processed by then, and the p50/p99 milliseconds from publish to processed
        -- a purchase not processed by the horizon counts with its wait so far, so a backlog
        that never clears raises the percentiles instead of vanishing from them."""
        rows = self._db.execute(
            "SELECT p.coverage, p.published_at, d.processed_at FROM published p"
            " LEFT JOIN processed d ON d.id = p.id AND d.coverage = p.coverage"
            " WHERE p.published_at >= ? AND p.published_at < ?",
            (start, end),
        )
        waits: dict[str, list[float]] = {}
        processed: dict[str, int] = {}
        for coverage, published_at, processed_at in rows:
            done = processed_at is not None and processed_at <= horizon
            processed[coverage] = processed.get(coverage, 0) + done
            waits.setdefault(coverage, []).append(
                ((processed_at if done else horizon) - published_at) * 1000
            )
        return {
            coverage: {
                "published": len(values),
                "processed": processed[coverage],
                "p50_ms": percentile(values, 50),
                "p99_ms": percentile(values, 99),
            }
            for coverage, values in sorted(waits.items())
        }

    def published_ids(self) -> list[str]:
        return [i for (i,) in self._db.execute("SELECT id FROM published")]

    def processed_ids(self) -> list[str]:
        return [i for (i,) in self._db.execute("SELECT id FROM processed")]

    def duplicate_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM duplicates").fetchone()[0])

    def reset(self) -> None:
        with self._db as db:
            for table in ("published", "processed", "duplicates", "dead_lettered"):
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _empty() -> dict[str, Any]:
    return {"published": 0, "processed": 0, "duplicates": 0, "dead_lettered": 0}


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile, rounded to 0.1 ms; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)
