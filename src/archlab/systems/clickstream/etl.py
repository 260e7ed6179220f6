"""The ETL job: the lake's events into a DuckDB warehouse of sessions and daily aggregates,
one day partition at a time, incrementally.

The notes' third answer to "where do we analyse": a warehouse answers the usual questions
from small tables built ahead, at the price of running the job and of data only as fresh as its
last run. A run looks at each ``dt=`` partition of the events table and reloads the days whose
files changed since the last run (by name, size and modification time; delivery never
rewrites a file with other content, so a new file means new events), each in one transaction:
the day's sessions and aggregates are deleted and built again from that day's files. A session
that runs over midnight is two sessions, one on each day: days are the unit of work.

Tables: ``sessions`` (one row a session and day: its visitor, first and last event, page views,
device, referrer, and how far down the funnel it went), ``daily_traffic`` (page views,
sessions, visitors, purchases, revenue), ``daily_funnel`` (sessions reaching each step) and
``daily_purchases`` (by coverage type).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from archlab.systems.clickstream.rollup import hour_partitions

SCHEMA = """
CREATE TABLE IF NOT EXISTS etl_state (
    day VARCHAR PRIMARY KEY, signature VARCHAR, loaded_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS sessions (
    day VARCHAR, session_id VARCHAR, visitor_id VARCHAR, started TIMESTAMP, ended TIMESTAMP,
    events BIGINT, page_views BIGINT, device_type VARCHAR, referrer_host VARCHAR,
    added_to_cart BOOLEAN, began_checkout BOOLEAN, purchased BOOLEAN, revenue DOUBLE);
CREATE TABLE IF NOT EXISTS daily_traffic (
    day VARCHAR PRIMARY KEY, page_views BIGINT, sessions BIGINT, visitors BIGINT,
    purchases BIGINT, revenue DOUBLE);
CREATE TABLE IF NOT EXISTS daily_funnel (
    day VARCHAR, step VARCHAR, position INTEGER, sessions BIGINT);
CREATE TABLE IF NOT EXISTS daily_purchases (
    day VARCHAR, coverage VARCHAR, purchases BIGINT, revenue DOUBLE);
"""
TABLES = ("sessions", "daily_traffic", "daily_funnel", "daily_purchases")
FUNNEL = (
    ("view", "page_views > 0"),
    ("cart", "added_to_cart"),
    ("checkout", "began_checkout"),
    ("purchase", "purchased"),
)
"""The funnel's steps in order, each with the sessions that reached it."""


@dataclass
class EtlReport:
    days_loaded: list[str] = field(default_factory=list)
    days_unchanged: int = 0
    sessions: int = 0


def day_partitions(events_root: Path) -> dict[str, list[Path]]:
    """Each ``dt=YYYY-MM-DD`` partition's Parquet files (those of its ``hour=`` partitions, as
    ``rollup.hour_partitions`` lists them: files being written are left out)."""
    days: dict[str, list[Path]] = {}
    for (day, hour), names in hour_partitions(events_root).items():
        directory = events_root / f"dt={day}" / f"hour={hour}"
        days.setdefault(day, []).extend(directory / name for name in names)
    return days


def _signature(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class Warehouse:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = duckdb.connect(str(path))
        self.db.execute(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def load(self, events_root: Path) -> EtlReport:
        """Reload every day whose files changed (see the module)."""
        report = EtlReport()
        known = dict(self.db.execute("SELECT day, signature FROM etl_state").fetchall())
        for day, files in day_partitions(events_root).items():
            signature = _signature(files)
            if known.get(day) == signature:
                report.days_unchanged += 1
                continue
            report.sessions += self._load_day(day, files, signature)
            report.days_loaded.append(day)
        return report

    def _load_day(self, day: str, files: list[Path], signature: str) -> int:
        sources = [str(path) for path in files]
        self.db.execute("BEGIN TRANSACTION")
        try:
            for table in TABLES:
                self.db.execute(f"DELETE FROM {table} WHERE day = ?", [day])
            self.db.execute(
                "CREATE OR REPLACE TEMP TABLE day_events AS SELECT * FROM read_parquet(?)",
                [sources],
            )
            self.db.execute(
                """
                INSERT INTO sessions
                SELECT ?, session_id, any_value(visitor_id), min(event_time), max(event_time),
                       count(*), count(*) FILTER (name = 'page_view'),
                       any_value(device_type), arg_min(referrer_host, event_time),
                       bool_or(name = 'add_to_cart'), bool_or(name = 'begin_checkout'),
                       bool_or(name = 'purchase'),
                       coalesce(sum(value) FILTER (name = 'purchase'), 0)
                FROM day_events GROUP BY session_id
                """,
                [day],
            )
            self.db.execute(
                """
                INSERT INTO daily_traffic
                SELECT ?, (SELECT count(*) FROM day_events WHERE name = 'page_view'),
                       count(*), count(DISTINCT visitor_id),
                       (SELECT count(*) FROM day_events WHERE name = 'purchase'),
                       sum(revenue)
                FROM sessions WHERE day = ?
                """,
                [day, day],
            )
            for position, (step, condition) in enumerate(FUNNEL, start=1):
                self.db.execute(
                    f"INSERT INTO daily_funnel SELECT ?, ?, ?, count(*) FROM sessions"
                    f" WHERE day = ? AND {condition}",
                    [day, step, position, day],
                )
            self.db.execute(
                """
                INSERT INTO daily_purchases
                SELECT ?, coalesce(coverage, 'unknown'), count(*), sum(value)
                FROM day_events WHERE name = 'purchase' GROUP BY ALL
                """,
                [day],
            )
            self.db.execute(
                "INSERT OR REPLACE INTO etl_state VALUES (?, ?, now())", [day, signature]
            )
            count = self.db.execute("SELECT count(*) FROM sessions WHERE day = ?", [day]).fetchone()
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return int(count[0]) if count else 0
