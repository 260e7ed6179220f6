"""The ETL job: days of lake files into the warehouse's sessions and daily tables, again only
for the days whose files changed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from archlab.systems.clickstream.etl import Warehouse
from archlab.systems.clickstream.events import COLUMNS, check, client
from archlab.systems.clickstream.traffic import visits

NOW = 1_780_000_000_000
TYPES = {"string": pa.string(), "double": pa.float64(), "timestamp": pa.timestamp("ms", "UTC")}


def records(events: int, seed: int) -> list[dict[str, Any]]:
    made = []
    for visit in visits(events, days=3, now_ms=NOW, seed=seed):
        arrived = visit.events[-1]["time"] + 1_000
        made += check(visit.events, client(visit.ip, visit.user_agent), arrived).records
    return made


def write_lake(root: Path, rows: list[dict[str, Any]], name: str) -> None:
    """As delivery lays them out: dt=/hour= partitions, a Parquet file each."""
    schema = pa.schema([(column, TYPES[kind]) for column, kind in COLUMNS.items()])
    by_partition: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_partition.setdefault((row["event_date"], row["event_hour"]), []).append(row)
    for (day, hour), part in by_partition.items():
        directory = root / f"dt={day}" / f"hour={hour}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(part, schema), directory / f"{name}.parquet")


def test_days_load_into_sessions_and_daily_aggregates(tmp_path: Path) -> None:
    rows = records(6_000, seed=3)
    write_lake(tmp_path / "events", rows, "a")
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    report = warehouse.load(tmp_path / "events")
    days = sorted({row["event_date"] for row in rows})
    assert report.days_loaded == days and report.days_unchanged == 0
    traffic = {
        day: (views, purchases)
        for day, views, purchases in warehouse.db.execute(
            "SELECT day, page_views, purchases FROM daily_traffic"
        ).fetchall()
    }
    views = Counter(r["event_date"] for r in rows if r["name"] == "page_view")
    bought = Counter(r["event_date"] for r in rows if r["name"] == "purchase")
    assert traffic == {day: (views[day], bought[day]) for day in days}
    sessions = {(r["event_date"], r["session_id"]) for r in rows}
    assert report.sessions == len(sessions)
    for day in days:
        steps = warehouse.db.execute(
            "SELECT sessions FROM daily_funnel WHERE day = ? ORDER BY position", [day]
        ).fetchall()
        counts = [count for (count,) in steps]
        assert len(counts) == 4 and counts == sorted(counts, reverse=True) and counts[0] > 0
    revenue = warehouse.db.execute("SELECT sum(revenue) FROM daily_purchases").fetchone()
    expected = sum(r["value"] for r in rows if r["name"] == "purchase")
    assert revenue is not None and abs(revenue[0] - expected) < 0.01
    warehouse.close()


def test_a_run_reloads_only_the_days_that_changed(tmp_path: Path) -> None:
    rows = records(3_000, seed=4)
    write_lake(tmp_path / "events", rows, "a")
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    first = warehouse.load(tmp_path / "events")
    assert warehouse.load(tmp_path / "events").days_loaded == []
    day = first.days_loaded[0]
    more = [row | {"event_id": row["event_id"] + "x"} for row in rows if row["event_date"] == day]
    write_lake(tmp_path / "events", more, "b")
    again = warehouse.load(tmp_path / "events")
    assert again.days_loaded == [day] and again.days_unchanged == len(first.days_loaded) - 1
    (views,) = warehouse.db.execute(
        "SELECT page_views FROM daily_traffic WHERE day = ?", [day]
    ).fetchone() or (0,)
    assert views == 2 * sum(1 for r in rows if r["event_date"] == day and r["name"] == "page_view")
    warehouse.close()
