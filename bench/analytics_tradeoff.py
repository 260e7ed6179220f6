"""Benchmark: the notes' comparison -- analyse in the stream, in the lake, or in a warehouse.

One synthetic dataset (the storefront's shoppers, ``traffic.visits``, each event checked as the
collector checks it and arriving as the tracker sends it, within 5 s) goes down all three of the
clickstream's paths, in arrival order:

* the stream: the one-minute tumbling windows (``windows.TumblingWindows``), fed each minute's
  arrivals; they keep every closed window here (the system's live panel keeps an hour's);
* the lake: each minute's arrivals delivered into the partitioned Parquet lake, one file a
  partition (``DeliveryStream.deliver``: the files the delivery stream's 60 s buffer makes at this
  load, far below its 5 MiB; two deliverers share the hours, to build it sooner), then the
  crawler and SQL over the catalog (``lake.query``);
* the warehouse: the ETL job (``etl.Warehouse.load``) over the same lake files.

The same questions (``questions``) are then asked of each path that can answer them, and the
answers are checked to be the same (the bench stops if they are not). For each question and
path: latency (median and p95 of ``--repeat`` answers, or of as many as 3 s allow, at least
5), bytes scanned (the lake's as Athena counts them, ``QueryResult.bytes_scanned``; the
warehouse's as the rows its scans read times the widths of the columns they read; none for the
stream, whose answer is state in memory).

Freshness: a new minute of events (in an hour the lake has no partition for yet) arrives, and
each path's steps run back to back -- the windows count it; the lake's files are written, the
crawler registers the new partition and the lake's views are refreshed; the ETL reloads the
day -- each until an answer includes it. The configured waits (window and lateness; delivery
buffer, deliverer, crawler and ETL schedules) are stated beside, and their sum with the
measured work is the oldest the newest event in an answer can be.

Cost: a month at the dataset's daily events and a dashboard refreshed every 5 minutes, from
the price table below (``PRICES``: list prices, us-east-1), every term in the JSON.

Prints one JSON object: per-run medians (``--runs``, each in a fresh home over the same
events) under "questions", "freshness", "cost" and "summary", each run's raw figures under
"runs". ``--quick`` runs a small dataset once; ``--record`` appends to docs/benchmarks.md.

    uv run python bench/analytics_tradeoff.py --record
"""

from __future__ import annotations

# isort: off
import benchkit  # first: it moves bench/ to the end of the import path

# isort: on
import argparse
import copy
import json
import math
import multiprocessing
import random
import re
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from archlab.lake.query import MINIMUM_BILLED_BYTES, Lake
from archlab.runtime.functions import StreamPoller
from archlab.systems.clickstream import pipeline, topology
from archlab.systems.clickstream.etl import Warehouse
from archlab.systems.clickstream.events import check, client
from archlab.systems.clickstream.questions import (
    EVENTS,
    HOUR_MS,
    Question,
    Rows,
    Span,
    questions,
    rows,
    same,
)
from archlab.systems.clickstream.traffic import visits
from archlab.systems.clickstream.windows import WINDOW_MS, TumblingWindows
from archlab.systems.clickstream.wiring import EVENTS as EVENTS_DIRECTORY

NOW_MS = 1_780_002_000_000
"""2026-05-28 21:00 UTC: the dataset ends here (fixed, so every run asks about the same days)."""
TRACKER_MS = 5_000
"""The tracker sends what it has gathered within 5 s (``tracker.js``)."""
PATHS = ("stream", "lake", "warehouse")
REFRESH_S = 300
"""The dashboard asks its questions every 5 minutes, day and night."""
DAYS_A_MONTH = 730 / 24
MIN_REPEAT, BUDGET_S = 5, 3.0
"""Each question and path is answered ``--repeat`` times, or for ``BUDGET_S`` (at least
``MIN_REPEAT`` times) when its answers are slow."""
RETENTION_DAYS = 30
"""The lake keeps a month of events in the cost model (storage is a month's worth)."""

PRICES: dict[str, Any] = {
    "region": "us-east-1",
    "as_of": "2026 list prices (see the docs' section for what was checked)",
    "athena_usd_per_tb_scanned": 5.0,
    "athena_minimum_mb_per_query": MINIMUM_BILLED_BYTES // 1_000_000,
    "s3_standard_usd_per_gb_month": 0.023,
    "s3_put_usd_per_1000": 0.005,
    "s3_get_usd_per_1000": 0.0004,
    "firehose_ingest_usd_per_gb": 0.029,
    "firehose_billed_record_kb": 5,
    "firehose_format_conversion_usd_per_gb": 0.018,
    "firehose_dynamic_partitioning_usd_per_gb": 0.020,
    "firehose_dynamic_partitioning_usd_per_1000_objects": 0.005,
    "glue_crawler_usd_per_dpu_hour": 0.44,
    "glue_crawler_minimum_minutes": 10,
    "glue_crawler_dpus_assumed": 2,
    "glue_crawls_per_day": 24,
    "flink_usd_per_kpu_hour": 0.11,
    "flink_kpus": 1,
    "flink_orchestration_kpus": 1,
    "flink_running_storage_gb_per_kpu": 50,
    "flink_running_storage_usd_per_gb_month": 0.10,
    "redshift_serverless_usd_per_rpu_hour": 0.375,
    "redshift_serverless_base_rpus": 4,
    "redshift_serverless_minimum_s": 60,
    "redshift_managed_storage_usd_per_gb_month": 0.024,
}


# --- the dataset --------------------------------------------------------------------------------


def generate(events: int, days: float, seed: int) -> list[tuple[int, bytes]]:
    """(arrival ms, record) for every event, in arrival order: each visit's events checked as
    the collector checks them, each arriving 0.2-5 s after it happened."""
    delay = random.Random(seed + 1)
    made: list[tuple[int, bytes]] = []
    for visit in visits(events, days, NOW_MS, seed):
        sender = client(visit.ip, visit.user_agent)
        last = max(int(event["time"]) for event in visit.events)
        checked = check(visit.events, sender, last + TRACKER_MS)
        if checked.refused or checked.bot:
            raise SystemExit(f"the collector refused generated events: {checked.refused[:3]}")
        for record in checked.records:
            arrival = int(record["event_time"]) + delay.randrange(200, TRACKER_MS)
            record["received_at"] = arrival
            made.append((arrival, _encoded(record)))
    made.sort(key=itemgetter(0))
    return made


def _encoded(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def by_minute(records: list[tuple[int, bytes]]) -> list[tuple[int, list[bytes]]]:
    """The records in minutes of arrival: what one delivery a partition each 60 s holds."""
    return [
        (minute, [data for _, data in group])
        for minute, group in groupby(records, key=lambda item: item[0] // 60_000)
    ]


def later_minute(records: list[bytes], start_ms: int) -> list[bytes]:
    """A minute of events like ``records``, moved to start at ``start_ms`` (new event ids)."""
    decoded = [json.loads(data) for data in records]
    shift = start_ms - min(int(record["event_time"]) for record in decoded)
    moved = []
    for record in decoded:
        when = int(record["event_time"]) + shift
        stamp = datetime.fromtimestamp(when / 1000, UTC)
        record.update(
            event_id=f"{record['event_id']}-later",
            event_time=when,
            received_at=int(record["received_at"]) + shift,
            event_date=stamp.strftime("%Y-%m-%d"),
            event_hour=stamp.strftime("%H"),
        )
        moved.append(_encoded(record))
    return moved


# --- measuring ----------------------------------------------------------------------------------


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


class Paths:
    """The three paths over one home, answering questions."""

    def __init__(self, home: Path, windows: TumblingWindows) -> None:
        self.home = home
        self.windows = windows
        self.places = pipeline.here(home)
        self.catalog = pipeline.catalog(home)
        self.crawler = pipeline.crawler(home)
        self.lake: Lake | None = None
        self.warehouse = Warehouse(self.places.warehouse)
        self._widths: dict[str, dict[str, float]] = {}
        self._profile = home / "warehouse-profile.json"

    def open_lake(self) -> None:
        self.lake = Lake(self.catalog)

    def answer(self, question: Question, path: str) -> Rows:
        if path == "stream":
            assert question.stream is not None
            return question.stream(list(self.windows.closed))
        if path == "lake":
            assert self.lake is not None
            return rows(self.lake.query(question.lake).table)
        assert question.warehouse is not None
        return [tuple(row) for row in self.warehouse.db.execute(question.warehouse).fetchall()]

    def lake_bytes(self, question: Question) -> int:
        assert self.lake is not None
        return self.lake.query(question.lake).bytes_scanned

    def lake_files(self, span: Span) -> int:
        directory = self.places.lake / EVENTS_DIRECTORY / f"dt={span.day}"
        if span.hour is not None:
            directory /= f"hour={span.hour:02d}"
        return sum(1 for _ in directory.rglob("*.parquet"))

    def warehouse_bytes(self, sql: str) -> int:
        """What the warehouse's scans read: rows scanned times the widths of the columns each
        scan projected or filtered on (uncompressed; Redshift bills time, not bytes)."""
        db = self.warehouse.db
        db.execute("PRAGMA enable_profiling='json'")
        db.execute(f"PRAGMA profiling_output='{self._profile}'")
        try:
            db.execute(sql).fetchall()
        finally:
            db.execute("PRAGMA disable_profiling")
        total = 0.0
        for scan in _scans(json.loads(self._profile.read_text(encoding="utf-8"))):
            info = scan.get("extra_info", {})
            table = str(info.get("Table", ""))
            widths = self._table_widths(table)
            projected = info.get("Projections", [])
            if isinstance(projected, str):
                projected = projected.split("\n")
            filtered = str(info.get("Filters", ""))
            columns = {c.strip() for c in projected} | {
                c for c in widths if re.search(rf"\b{re.escape(c)}\b", filtered)
            }
            rows_read = int(scan.get("operator_rows_scanned") or 0)
            total += rows_read * sum(widths.get(c, 0.0) for c in columns)
        return round(total)

    def _table_widths(self, table: str) -> dict[str, float]:
        if table not in self._widths:
            db = self.warehouse.db
            types = db.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = ?",
                [table],
            ).fetchall()
            widths = {}
            for column, kind in types:
                if kind == "VARCHAR":
                    found = db.execute(f'SELECT avg(strlen("{column}")) FROM "{table}"').fetchone()
                    widths[column] = float(found[0] or 0.0) if found else 0.0
                else:
                    widths[column] = {"BOOLEAN": 1.0, "INTEGER": 4.0}.get(kind, 8.0)
            self._widths[table] = widths
        return self._widths[table]

    def close(self) -> None:
        if self.lake is not None:
            self.lake.close()
        self.warehouse.close()


def _scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node] if node.get("operator_type") == "TABLE_SCAN" else []
    for child in node.get("children", []):
        found += _scans(child)
    return found


def deliver_minutes(home: Path, minutes: list[tuple[int, list[bytes]]]) -> int:
    """One delivery a partition for each minute of arrivals (a worker's share); the files."""
    delivery = pipeline.delivery_stream(home)
    try:
        return sum(
            len(delivery.deliver(records, batch_id=f"m{minute}", arrival=minute * 60).files)
            for minute, records in minutes
        )
    finally:
        delivery.close()


def build(
    home: Path, minutes: list[tuple[int, list[bytes]]], pool: Executor
) -> tuple[TumblingWindows, dict[str, Any]]:
    """The minutes, in arrival order, into the lake under ``home`` (two deliverers, each
    writing its own hours: the files are those one would write) and into the windows."""
    pipeline.delivery_stream(home).close()  # the buffer's control file, made once
    half = len(minutes) // 2
    files, deliver_s = timed(
        lambda: sum(pool.map(deliver_minutes, [home, home], [minutes[:half], minutes[half:]]))
    )
    windows = TumblingWindows(keep=len(minutes) + 120)
    counting = 0.0
    for _, records in minutes:
        started = time.perf_counter()
        windows.add([json.loads(data) for data in records])
        counting += time.perf_counter() - started
    if windows.late:
        raise SystemExit(f"the windows counted {windows.late} events late")
    events = sum(len(records) for _, records in minutes)
    root = pipeline.here(home).lake / EVENTS_DIRECTORY
    return windows, {
        "files": files,
        "lake_mb": sum(p.stat().st_size for p in root.rglob("*.parquet")) / 1e6,
        "most_records_a_minute": max(len(records) for _, records in minutes),
        "most_bytes_a_minute": max(sum(map(len, records)) for _, records in minutes),
        "deliver_wall_s_two_deliverers": deliver_s,
        "windows_s": counting,
        "windows_events_per_s": events / counting,
    }


def run_once(
    built: Path,
    windows: TumblingWindows,
    minutes: list[tuple[int, list[bytes]]],
    asked: list[Question],
    repeat: int,
) -> dict[str, Any]:
    """A copy of the built lake and windows in a fresh home: the catalog crawled and the
    warehouse loaded from nothing, every question asked, then the freshness of each path."""
    with tempfile.TemporaryDirectory(prefix="archlab-analytics-") as directory:
        home = Path(directory)
        shutil.copytree(pipeline.here(built).lake, pipeline.here(home).lake)
        paths = Paths(home, copy.deepcopy(windows))
        delivery = pipeline.delivery_stream(home)
        try:
            _, first_crawl = timed(paths.crawler.crawl)
            _, lake_open = timed(paths.open_lake)
            _, etl_full = timed(lambda: paths.warehouse.load(paths.places.lake / EVENTS_DIRECTORY))
            figures: dict[str, Any] = {
                "setup": {
                    "first_crawl_s": first_crawl,
                    "lake_open_s": lake_open,
                    "etl_full_load_s": etl_full,
                    "warehouse_mb": paths.places.warehouse.stat().st_size / 1e6,
                },
                "questions": ask(paths, asked, repeat),
                "freshness": freshness(paths, delivery, minutes, asked),
            }
        finally:
            paths.close()
            delivery.close()
    return figures


def ask(paths: Paths, asked: list[Question], repeat: int) -> dict[str, Any]:
    """Each question of each path that can answer it: the same answer, and what it took."""
    out: dict[str, Any] = {}
    for question in asked:
        answers = {path: paths.answer(question, path) for path in question.paths()}
        for path, found in answers.items():
            if not same(found, answers["lake"]):
                raise SystemExit(
                    f"{question.name}: the {path} says {found[:5]}, the lake {answers['lake'][:5]}"
                )
        if not answers["lake"] or answers["lake"] == [(0,)]:
            raise SystemExit(f"{question.name}: no events in {question.span}")
        measured: dict[str, Any] = {}
        for path in question.paths():
            timings: list[float] = []
            began = time.perf_counter()
            while len(timings) < repeat and (
                len(timings) < MIN_REPEAT or time.perf_counter() - began < BUDGET_S
            ):
                started = time.perf_counter()
                paths.answer(question, path)
                timings.append((time.perf_counter() - started) * 1000)
            measured[path] = {
                "p50_ms": statistics.median(timings),
                "p95_ms": percentile(timings, 0.95),
                "answers": len(timings),
                "bytes_scanned": (
                    0
                    if path == "stream"
                    else paths.lake_bytes(question)
                    if path == "lake"
                    else paths.warehouse_bytes(str(question.warehouse))
                ),
            }
        measured["lake"]["files"] = paths.lake_files(question.span)
        out[question.name] = {"rows": len(answers["lake"]), "paths": measured}
    return out


def freshness(
    paths: Paths, delivery: Any, minutes: list[tuple[int, list[bytes]]], asked: list[Question]
) -> dict[str, Any]:
    """A new minute of events, in an hour the lake has no partition for yet, through each
    path's steps back to back until an answer includes it (the seconds each step took)."""
    assert paths.lake is not None
    hour = next(q.span for q in asked if q.span.hour is not None)
    busy = hour.start_ms + HOUR_MS // 2
    sample = next(records for minute, records in minutes if minute * 60_000 >= busy)
    batch = later_minute(sample, NOW_MS)
    decoded = [json.loads(data) for data in batch]
    views = sum(1 for record in decoded if record["name"] == "page_view")
    new = Span(decoded[0]["event_date"], int(decoded[0]["event_hour"]))
    day_sql = f"SELECT page_views FROM daily_traffic WHERE day = '{new.day}'"
    before = paths.warehouse.db.execute(day_sql).fetchone()
    window = NOW_MS - NOW_MS % WINDOW_MS

    _, stream_s = timed(lambda: paths.windows.add(decoded))
    counted = sum(
        sum(w.page_views.values()) for start, w in paths.windows.open.items() if start >= window
    )
    if counted != views:
        raise SystemExit(f"freshness: the open windows hold {counted} of {views} page views")

    _, deliver_s = timed(lambda: delivery.deliver(batch, batch_id="later", arrival=NOW_MS / 1000))
    lake_sql = f"SELECT count(*) FROM {EVENTS} WHERE {new.partitions} AND name = 'page_view'"
    unseen = paths.lake.query(lake_sql).table.column(0)[0].as_py()
    _, crawl_s = timed(paths.crawler.crawl)
    _, refresh_s = timed(paths.lake.refresh)
    lake = paths.lake
    seen, lake_query_s = timed(lambda: lake.query(lake_sql).table.column(0)[0].as_py())
    if unseen != 0 or seen != views:
        raise SystemExit(f"freshness: the lake saw {unseen} then {seen} of {views} page views")
    _, idle_crawl_s = timed(paths.crawler.crawl)

    _, etl_s = timed(lambda: paths.warehouse.load(paths.places.lake / EVENTS_DIRECTORY))
    after, warehouse_query_s = timed(lambda: paths.warehouse.db.execute(day_sql).fetchone())
    if before is None or after is None or after[0] - before[0] != views:
        raise SystemExit(f"freshness: the warehouse went from {before} to {after}")
    reloaded = paths.warehouse.db.execute(
        f"SELECT sum(events) FROM sessions WHERE day = '{new.day}'"
    ).fetchone()

    configured = configured_waits(delivery.interval_s)
    measured = {
        "stream_count_s": stream_s,
        "deliver_s": deliver_s,
        "crawl_new_partition_s": crawl_s,
        "crawl_nothing_new_s": idle_crawl_s,
        "lake_refresh_s": refresh_s,
        "lake_query_s": lake_query_s,
        "etl_reload_day_s": etl_s,
        "etl_events_reloaded": int(reloaded[0]) if reloaded and reloaded[0] else 0,
        "warehouse_query_s": warehouse_query_s,
    }
    landed = configured["delivery_buffer_s"] + configured["deliverer_schedule_s"] + deliver_s
    worst = {
        "stream_closed_window_s": configured["window_s"]
        + configured["lateness_s"]
        + configured["stream_idle_poll_s"]
        + stream_s,
        "stream_open_window_s": configured["stream_idle_poll_s"] + stream_s,
        "lake_new_partition_s": landed
        + configured["crawler_schedule_s"]
        + crawl_s
        + refresh_s
        + lake_query_s,
        "lake_known_partition_s": landed + refresh_s + lake_query_s,
        "warehouse_s": landed + configured["etl_schedule_s"] + etl_s + warehouse_query_s,
    }
    return {"configured_s": configured, "measured": measured, "worst_case_s": worst}


def configured_waits(buffer_s: float) -> dict[str, float]:
    """The waits the system is configured with (its topology, the windows' defaults)."""
    model = topology.lake()

    def schedule(node_id: str) -> float:
        found = getattr(model.node(node_id), "schedule_s", None)
        return float(found or 0.0)

    return {
        "window_s": WINDOW_MS / 1000,
        "lateness_s": TumblingWindows().lateness_ms / 1000,
        "stream_idle_poll_s": StreamPoller.IDLE_S,
        "delivery_buffer_s": float(buffer_s),
        "deliverer_schedule_s": schedule("deliver"),
        "crawler_schedule_s": schedule("crawler"),
        "etl_schedule_s": schedule("etl"),
    }


# --- cost ---------------------------------------------------------------------------------------


def monthly_cost(
    figures: dict[str, Any], asked: list[Question], load: dict[str, float]
) -> dict[str, Any]:
    """Each path's month at ``load``, term by term (see ``PRICES``)."""
    p = PRICES
    events = load["events_per_day"]
    refreshes = load["dashboard_refreshes_per_day"]
    month = DAYS_A_MONTH
    billed_gb = events * math.ceil(load["record_bytes"] / 1000 / p["firehose_billed_record_kb"])
    billed_gb *= p["firehose_billed_record_kb"] * 1000 / 1e9
    raw_gb = events * load["record_bytes"] / 1e9
    landing = {
        "firehose_ingest": billed_gb * p["firehose_ingest_usd_per_gb"] * month,
        "firehose_format_conversion": billed_gb
        * p["firehose_format_conversion_usd_per_gb"]
        * month,
        "firehose_dynamic_partitioning": (
            raw_gb * p["firehose_dynamic_partitioning_usd_per_gb"]
            + load["files_per_day"] / 1000 * p["firehose_dynamic_partitioning_usd_per_1000_objects"]
        )
        * month,
        "s3_storage": load["lake_gb_per_day"] * RETENTION_DAYS * p["s3_standard_usd_per_gb_month"],
        "s3_puts": load["files_per_day"] / 1000 * p["s3_put_usd_per_1000"] * month,
    }
    questions_of = {path: [q for q in asked if path in q.paths()] for path in PATHS}
    kpus = p["flink_kpus"] + p["flink_orchestration_kpus"]
    stream = {
        "flink_kpus": kpus * p["flink_usd_per_kpu_hour"] * 730,
        "flink_running_storage": p["flink_kpus"]
        * p["flink_running_storage_gb_per_kpu"]
        * p["flink_running_storage_usd_per_gb_month"],
    }
    athena = s3_gets = 0.0
    for question in questions_of["lake"]:
        measured = figures["questions"][question.name]["paths"]["lake"]
        billed = max(math.ceil(measured["bytes_scanned"] / 1e6) * 1e6, MINIMUM_BILLED_BYTES)
        athena += billed / 1e12 * p["athena_usd_per_tb_scanned"]
        s3_gets += measured["files"] / 1000 * p["s3_get_usd_per_1000"]
    crawls = (
        p["glue_crawls_per_day"]
        * p["glue_crawler_minimum_minutes"]
        / 60
        * p["glue_crawler_dpus_assumed"]
        * p["glue_crawler_usd_per_dpu_hour"]
    )
    lake = {
        **landing,
        "glue_crawler": crawls * month,
        "athena_scans": athena * refreshes * month,
        "s3_gets_by_queries": s3_gets * refreshes * month,
    }
    projected = {k: v for k, v in lake.items() if k != "glue_crawler"}
    etl_s = figures["freshness"]["measured"]["etl_reload_day_s"]
    minimum = p["redshift_serverless_minimum_s"]
    rpu_hour = p["redshift_serverless_base_rpus"] * p["redshift_serverless_usd_per_rpu_hour"]
    storage = (
        figures["setup"]["warehouse_mb"] / 1000 * p["redshift_managed_storage_usd_per_gb_month"]
    )

    def warehouse(etl_runs_per_day: float) -> dict[str, float]:
        active = etl_runs_per_day * max(minimum, etl_s) + refreshes * minimum
        hours = min(86_400.0, active) / 3600
        return {
            **landing,
            "redshift_serverless_compute": hours * rpu_hour * month,
            "redshift_managed_storage": storage,
        }

    etl_every = figures["freshness"]["configured_s"]["etl_schedule_s"]
    costs = {
        "stream": stream,
        "lake": lake,
        "lake_partition_projection": projected,
        "warehouse": warehouse(86_400 / etl_every),
        "warehouse_etl_hourly": warehouse(24),
    }
    return {name: {**terms, "total": sum(terms.values())} for name, terms in costs.items()}


# --- the report ---------------------------------------------------------------------------------


def median_of(runs: list[Any]) -> Any:
    """The runs' figures, every number the median across runs."""
    first = runs[0]
    if isinstance(first, dict):
        return {key: median_of([run[key] for run in runs]) for key in first}
    if isinstance(first, bool) or not isinstance(first, int | float):
        return first
    return statistics.median(runs)


def summary(report: dict[str, Any], asked: list[Question]) -> dict[str, Any]:
    """Per path: its questions' median latency, the freshness of its answers, the bytes a
    dashboard refresh reads, and the month's cost."""
    worst = report["freshness"]["worst_case_s"]
    fresh = {
        "stream": worst["stream_closed_window_s"],
        "lake": worst["lake_new_partition_s"],
        "warehouse": worst["warehouse_s"],
    }
    out = {}
    for path in PATHS:
        own = [q for q in asked if path in q.paths()]
        measured = [report["questions"][q.name]["paths"][path] for q in own]
        out[path] = {
            "questions_answered": f"{len(own)} of {len(asked)}",
            "p50_ms_median_question": statistics.median(m["p50_ms"] for m in measured),
            "p95_ms_worst_question": max(m["p95_ms"] for m in measured),
            "worst_freshness_s": fresh[path],
            "bytes_scanned_a_refresh": sum(m["bytes_scanned"] for m in measured),
            "monthly_usd": report["cost"][path]["total"],
        }
    return out


def record(report: dict[str, Any], asked: list[Question]) -> None:
    data, load = report["dataset"], report["cost_load"]
    notes = [
        f"{data['events']:,} events over {data['days']:g} days ending {data['ends']},"
        f" {data['files']:,} Parquet files ({data['lake_mb']:.1f} MB); median of"
        f" {report['runs_made']} runs, up to {report['repeat']} answers a question and path"
        f" (at least {MIN_REPEAT}, for {BUDGET_S:g} s, when slow).",
        f"Cost load: {load['events_per_day']:,.0f} events a day, a dashboard refresh every"
        f" {REFRESH_S // 60} minutes ({load['dashboard_refreshes_per_day']:.0f} a day);"
        " us-east-1 list prices as in the bench's PRICES.",
    ]
    lines = [
        "| path | answers | p50 ms (median question) | p95 ms (worst) | freshness, worst s |"
        " bytes a refresh | $ a month |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for path, row in report["summary"].items():
        lines.append(
            f"| {path} | {row['questions_answered']} | {row['p50_ms_median_question']:,.2f} |"
            f" {row['p95_ms_worst_question']:,.2f} | {row['worst_freshness_s']:,.1f} |"
            f" {row['bytes_scanned_a_refresh']:,} | {row['monthly_usd']:,.2f} |"
        )
    lines += [
        "",
        "| question | path | p50 ms | p95 ms | bytes scanned | files |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for question in asked:
        for path, row in report["questions"][question.name]["paths"].items():
            files = f"{row['files']:,}" if "files" in row else ""
            lines.append(
                f"| {question.name} | {path} | {row['p50_ms']:,.2f} | {row['p95_ms']:,.2f} |"
                f" {row['bytes_scanned']:,} | {files} |"
            )
    fresh = report["freshness"]
    lines += ["", "| freshness | s |", "|---|---:|"]
    for group in ("configured_s", "measured", "worst_case_s"):
        for key, value in fresh[group].items():
            shown = f"{value:,}" if isinstance(value, int) else f"{value:,.3f}"
            lines.append(f"| {group.removesuffix('_s')}: {key} | {shown} |")
    lines += ["", "| month's cost, $ | " + " | ".join(report["cost"]) + " |"]
    lines.append("|---|" + "---:|" * len(report["cost"]))
    terms = dict.fromkeys(k for path in report["cost"].values() for k in path if k != "total")
    terms["total"] = None
    for term in terms:
        cells = [
            f"{report['cost'][path][term]:,.2f}" if term in report["cost"][path] else ""
            for path in report["cost"]
        ]
        lines.append(f"| {term} | " + " | ".join(cells) + " |")
    benchkit.append_record("Analytics: stream vs lake vs warehouse", report, notes, lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small dataset, one run")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    parser.add_argument("--events", type=int, help="events to generate (1,000,000; quick 60,000)")
    parser.add_argument("--days", type=float, help="days they span (3; quick 1)")
    parser.add_argument("--runs", type=int, help="runs over the same events (3; quick 1)")
    parser.add_argument("--repeat", type=int, help="answers a question and path (30; quick 10)")
    args = parser.parse_args()
    events = args.events or (60_000 if args.quick else 1_000_000)
    days = args.days or (1.0 if args.quick else 3.0)
    runs_wanted = args.runs or (1 if args.quick else 3)
    repeat = args.repeat or (10 if args.quick else 30)

    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    halves = [events // 2, events - events // 2]
    generated, generate_s = timed(
        lambda: sorted(
            chain.from_iterable(pool.map(generate, halves, [days, days], [7, 8])),
            key=itemgetter(0),
        )
    )
    minutes = by_minute(generated)
    last = datetime.fromtimestamp((NOW_MS - 1) / 1000, UTC)
    day = datetime.fromtimestamp((NOW_MS - 86_400_000) / 1000, UTC).strftime("%Y-%m-%d")
    # the hour before the last: the windows have closed it (the watermark is past it)
    asked = questions(day, last.strftime("%Y-%m-%d"), (last.hour - 2) % 24)
    record_bytes = statistics.fmean(len(data) for _, data in generated)
    del generated

    with tempfile.TemporaryDirectory(prefix="archlab-analytics-built-") as directory:
        built = Path(directory)
        windows, setup = build(built, minutes, pool)
        pool.shutdown()
        runs = [run_once(built, windows, minutes, asked, repeat) for _ in range(runs_wanted)]
    whole_day = Span(day)
    events_per_day = sum(
        len(records)
        for minute, records in minutes
        if whole_day.start_ms <= minute * 60_000 < whole_day.end_ms
    )
    span_days = (minutes[-1][0] - minutes[0][0] + 1) / 1440
    load = {
        "events_per_day": float(events_per_day),
        "record_bytes": record_bytes,
        "files_per_day": setup["files"] / span_days,
        "lake_gb_per_day": setup["lake_mb"] / 1000 / span_days,
        "dashboard_refreshes_per_day": 86_400 / REFRESH_S,
    }
    for run in runs:
        run["cost"] = monthly_cost(run, asked, load)
    report: dict[str, Any] = {
        **benchkit.report("analytics_tradeoff", "uv run python bench/analytics_tradeoff.py"),
        "dataset": {
            "events": sum(len(records) for _, records in minutes),
            "days": days,
            "ends": datetime.fromtimestamp(NOW_MS / 1000, UTC).isoformat(),
            "generate_s": generate_s,
            **setup,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
        "spans": {q.name: str(q.span) for q in asked},
        "unanswerable": {
            q.name: [path for path in PATHS if path not in q.paths()]
            for q in asked
            if len(q.paths()) < len(PATHS)
        },
        "runs_made": runs_wanted,
        "repeat": repeat,
        "prices": PRICES,
        "cost_load": load,
        **median_of(runs),
    }
    report["summary"] = summary(report, asked)
    report["runs"] = runs
    print(json.dumps(report))
    if args.record:
        record(report, asked)


if __name__ == "__main__":
    main()
