"""`clickstream` as `archlab up` runs it: the collector in its own process, the stream's two
consumers and the scheduled deliverer in function hosts, events from an HTTP post to Parquet
in the lake, to the catalog, to SQL, to the warehouse, and counted in the live panel."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import pytest

from archlab.lake.query import Lake
from archlab.runtime.supervisor import supervised
from archlab.systems.clickstream import SYSTEM, functions, pipeline
from tests.clickstream.test_collector import BROWSER
from tests.images.test_system import free_port
from tests.runtime.test_workers import eventually

SESSIONS = 20


def batch(session: int, now_ms: int) -> dict[str, Any]:
    events: list[dict[str, Any]] = [
        {
            "id": f"e{session}-{n}",
            "name": "page_view",
            "time": now_ms - 5_000 + n,
            "session": f"s{session}",
            "visitor": f"v{session}",
            "page": f"/products/p{n}",
        }
        for n in range(4)
    ]
    events.append(
        {
            "id": f"e{session}-buy",
            "name": "purchase",
            "time": now_ms,
            "session": f"s{session}",
            "visitor": f"v{session}",
            "page": "/checkout",
            "product": "pet-lifetime",
            "coverage": "pet",
            "value": 12.5,
            "currency": "EUR",
        }
    )
    return {"events": events}


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": BROWSER},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.load(response)
        return answer


def panel_counts(home: Path) -> tuple[int, int] | None:
    """Page views and pet purchases the live panel has counted, once it exists."""
    try:
        panel = json.loads(pipeline.here(home).panel.read_text())
    except FileNotFoundError:
        return None
    counted = panel["windows"] + panel["open"]
    views = sum(w["page_views"] for w in counted)
    return views, sum(w["purchases"].get("pet", 0) for w in counted)


def lake_files(home: Path) -> list[Path]:
    return sorted((pipeline.here(home).lake / pipeline.EVENTS).rglob("*.parquet"))


def test_events_posted_reach_the_lake_sql_the_warehouse_and_the_panel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    port = free_port()
    monkeypatch.setenv("ARCHLAB_HOME", str(home))
    monkeypatch.setenv("ARCHLAB_CLICKSTREAM_PORT", str(port))
    monkeypatch.setenv("ARCHLAB_CLICKSTREAM_BUFFER_S", "1")
    base = f"http://127.0.0.1:{port}"
    now_ms = int(time.time() * 1000)
    with supervised([SYSTEM.topology()], home, f"sqlite:///{home}/messaging.db") as supervisor:
        assert supervisor.endpoints["clickstream"] == base
        with urllib.request.urlopen(f"{base}/tracker.js", timeout=10) as script:
            assert b"sendBeacon" in script.read()
        for session in range(SESSIONS):
            assert post(f"{base}/collect", batch(session, now_ms))["accepted"] == 5
        # delivered by age (1 s here) by the scheduled deliverer, every 5 s
        eventually(lambda: len(lake_files(home)) > 0, timeout=90)
        try:
            eventually(lambda: panel_counts(home) == (4 * SESSIONS, SESSIONS), timeout=90)
        except AssertionError:
            raise AssertionError(f"the live panel counted {panel_counts(home)}") from None

    pipeline.crawler(home).crawl()  # the system does this every 30 s
    lake = Lake(pipeline.catalog(home))
    try:
        result = lake.query(
            "SELECT count(*) AS n, count(DISTINCT event_id) AS distinct_ids,"
            " count(*) FILTER (name = 'purchase') AS purchases,"
            " any_value(device_type) AS device FROM clickstream.events"
        )
    finally:
        lake.close()
    assert result.table.to_pylist() == [
        {
            "n": 5 * SESSIONS,
            "distinct_ids": 5 * SESSIONS,
            "purchases": SESSIONS,
            "device": "desktop",
        }
    ]

    functions.run_etl({})  # the system does this every 60 s
    warehouse = duckdb.connect(str(pipeline.here(home).warehouse), read_only=True)
    try:
        funnel = warehouse.execute(
            "SELECT step, sum(sessions) FROM daily_funnel GROUP BY step, position ORDER BY position"
        ).fetchall()
    finally:
        warehouse.close()
    assert funnel == [("view", SESSIONS), ("cart", 0), ("checkout", 0), ("purchase", SESSIONS)]


def kinesis_event(shard: str, records: list[tuple[int, bytes]]) -> dict[str, Any]:
    import base64

    return {
        "Records": [
            {
                "eventID": f"{shard}:{sequence}",
                "kinesis": {
                    "sequenceNumber": str(sequence),
                    "data": base64.b64encode(data).decode(),
                },
            }
            for sequence, data in records
        ]
    }


def test_a_batch_the_stream_gives_again_is_buffered_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    functions._delivery.cache_clear()
    record = {
        "event_id": "e1",
        "name": "page_view",
        "event_time": 1_700_000_000_000,
        "event_date": "2023-11-14",
        "event_hour": "22",
        "session_id": "s1",
    }
    records = [
        (
            49_000_000_000_000_000_000_000_000_000 + n,
            json.dumps({**record, "event_id": f"e{n}"}).encode(),
        )
        for n in range(10)
    ]
    try:
        functions.to_lake(kinesis_event("shardId-000000000000", records[:6]))
        # the consumer died before its checkpoint: the batch comes again, with more after it
        functions.to_lake(kinesis_event("shardId-000000000000", records))
        # another shard's numbers are its own
        functions.to_lake(kinesis_event("shardId-000000000001", records[:3]))
        delivery = functions._delivery()
        assert delivery.metrics().records_in == 13
        report = delivery.flush()
    finally:
        functions._delivery.cache_clear()
    assert report.records == 13
