"""Session-hours: a rollup of the lake's events, one row per session and hour, that lets the
dashboard count distinct sessions without hashing every event.

Counting distinct sessions over a week means grouping every event of the week by its session
(2.3 million events, 460,000 sessions, on the benchmark's lake): that grouping, not reading,
is what a dashboard query spends its time on. The rollup does it once per hour partition:
``clickstream.session_hours`` holds, for each ``dt=``/``hour=``, each session seen in that hour
with the funnel steps it reached there (a bit each, ``STEPS``) and its page views. A session
that spans hours has a row in each; the week's sessions are then a grouping of about as many
rows as sessions, and an hour's sessions a plain count.

The rollup is derived data, kept exact by its manifest: for each hour it records the event
files it was built from (delivery never rewrites a file; a new file means new events). A run
rebuilds the hours whose files changed; the dashboard uses an hour's rollup only when the
files its events view has for that hour are the ones the rollup was built from, and reads the
raw events for every other hour (the open hour, late arrivals). Losing the rollup loses
nothing: it is built again.

Each hour's rollup is one Parquet file at a fixed path, replaced by an atomic rename (a reader
sees the old file or the new one); its partition is registered in the catalog before the
manifest names it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from archlab.blocks.catalog import MAX_BATCH, Catalog, Column, PartitionInput
from archlab.blocks.errors import AlreadyExists, EntityNotFound

SESSION_HOURS = "session_hours"
STEPS: Mapping[str, int] = {
    "page_view": 1,
    "add_to_cart": 2,
    "begin_checkout": 4,
    "purchase": 8,
}
"""The funnel's steps, each a bit of ``steps``."""
COLUMNS = (
    Column("session_id", "string"),
    Column("steps", "int"),
    Column("page_views", "bigint"),
)
KEYS = (Column("dt", "string"), Column("hour", "string"))
MANIFEST = "_manifest.json"
FILE = "rollup.parquet"

Hour = tuple[str, str]
"""A partition's values: (``dt``, ``hour``)."""


@dataclass
class RollupReport:
    hours_rolled: list[Hour] = field(default_factory=list)
    hours_unchanged: int = 0
    rows: int = 0


def hour_partitions(events_root: Path) -> dict[Hour, list[str]]:
    """Each ``dt=``/``hour=`` partition's Parquet files, by name, skipping files being
    written (``.``, ``_`` or ``%tmp`` names)."""
    found: dict[Hour, list[str]] = {}
    for day in sorted(events_root.glob("dt=*")):
        for hour in sorted(day.glob("hour=*")):
            names = sorted(
                entry.name
                for entry in os.scandir(hour)
                if entry.is_file()
                and entry.name.endswith(".parquet")
                and not entry.name.startswith((".", "_", "%tmp"))
            )
            if names:
                found[(day.name.removeprefix("dt="), hour.name.removeprefix("hour="))] = names
    return found


def read_manifest(rollup_root: Path) -> dict[Hour, list[str]]:
    """The event files each hour's rollup was built from (none when there is no rollup)."""
    try:
        entries = json.loads((rollup_root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {(entry["dt"], entry["hour"]): list(entry["files"]) for entry in entries}


class SessionHours:
    """Builds and keeps up to date the rollup of ``events_root`` under ``rollup_root``,
    registered as ``database.session_hours`` in ``catalog``."""

    def __init__(
        self, events_root: Path, rollup_root: Path, catalog: Catalog, database: str
    ) -> None:
        self.events_root = events_root
        self.root = rollup_root
        self.catalog = catalog
        self.database = database

    def run(self) -> RollupReport:
        """Rebuild the rollup of every hour whose event files changed since it was built."""
        report = RollupReport()
        manifest = read_manifest(self.root)
        current = hour_partitions(self.events_root)
        changed = {hour: files for hour, files in current.items() if manifest.get(hour) != files}
        report.hours_unchanged = len(current) - len(changed)
        if not changed:
            return report
        db = duckdb.connect()
        try:
            db.execute("SET threads = 1")  # a background job: the dashboard keeps the other core
            for hour, files in changed.items():
                report.rows += self._roll(db, hour, files)
                report.hours_rolled.append(hour)
        finally:
            db.close()
        self._register(changed)
        manifest.update(changed)
        self._write_manifest(manifest)
        return report

    def _roll(self, db: duckdb.DuckDBPyConnection, hour: Hour, files: list[str]) -> int:
        day, number = hour
        source = self.events_root / f"dt={day}" / f"hour={number}"
        target = self.root / f"dt={day}" / f"hour={number}"
        target.mkdir(parents=True, exist_ok=True)
        partial = target / f".{FILE}.{os.getpid()}"
        steps = " ".join(f"WHEN '{name}' THEN {bit}" for name, bit in STEPS.items())
        copied = db.execute(
            f"""
            COPY (
                SELECT session_id, bit_or(CASE name {steps} ELSE 0 END)::INTEGER AS steps,
                       count(*) FILTER (name = 'page_view') AS page_views
                FROM read_parquet(?) GROUP BY session_id ORDER BY session_id
            ) TO '{_quoted(str(partial))}' (FORMAT parquet, COMPRESSION zstd)
            """,
            [[str(source / name) for name in files]],
        ).fetchone()  # COPY answers with the rows it wrote
        os.replace(partial, target / FILE)
        return int(copied[0]) if copied else 0

    def _register(self, hours: Iterable[Hour]) -> None:
        """The table, if new, and the partitions it does not have yet."""
        try:
            known = {tuple(p.values) for p in self.catalog.partitions(self.database, SESSION_HOURS)}
        except EntityNotFound:
            with contextlib.suppress(AlreadyExists):
                self.catalog.create_table(
                    self.database,
                    SESSION_HOURS,
                    columns=COLUMNS,
                    partition_keys=KEYS,
                    location=str(self.root),
                    format="parquet",
                    description="each session in each hour: its funnel steps and page views",
                )
            known = set()
        entries = [
            PartitionInput(list(hour), str(self.root / f"dt={hour[0]}" / f"hour={hour[1]}"))
            for hour in hours
            if hour not in known
        ]
        for start in range(0, len(entries), MAX_BATCH):
            self.catalog.batch_create_partition(
                self.database, SESSION_HOURS, entries[start : start + MAX_BATCH]
            )

    def _write_manifest(self, manifest: Mapping[Hour, list[str]]) -> None:
        entries = [
            {"dt": day, "hour": number, "files": files}
            for (day, number), files in sorted(manifest.items())
        ]
        partial = self.root / f".{MANIFEST}.{os.getpid()}"
        partial.write_text(json.dumps(entries), encoding="utf-8")
        os.replace(partial, self.root / MANIFEST)


def _quoted(text: str) -> str:
    return text.replace("'", "''")
