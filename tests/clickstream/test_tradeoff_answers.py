"""The trade-off's questions (``questions``) get the same answer from the in-stream windows,
from SQL over the lake and from the warehouse, on the same events."""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest

from archlab.lake.query import Lake
from archlab.systems.clickstream import pipeline
from archlab.systems.clickstream.etl import Warehouse
from archlab.systems.clickstream.events import check, client
from archlab.systems.clickstream.questions import Span, questions, rows, same
from archlab.systems.clickstream.traffic import visits
from archlab.systems.clickstream.windows import TumblingWindows
from archlab.systems.clickstream.wiring import EVENTS

NOW = 1_780_002_000_000
"""2026-05-28 21:00 UTC."""


def arriving(events: int, seed: int) -> list[dict[str, Any]]:
    """Checked records in the order they arrive, each a second after it happened."""
    made = []
    for visit in visits(events, days=2, now_ms=NOW, seed=seed):
        last = max(int(event["time"]) for event in visit.events)
        for record in check(visit.events, client(visit.ip, visit.user_agent), last).records:
            record["received_at"] = int(record["event_time"]) + 1_000
            made.append(record)
    return sorted(made, key=lambda record: int(record["received_at"]))


def test_the_three_paths_answer_alike(tmp_path: Path) -> None:
    records = arriving(6_000, seed=11)
    delivery = pipeline.delivery_stream(tmp_path)
    windows = TumblingWindows(keep=3_000)
    for hour, group in groupby(records, key=lambda r: int(r["received_at"]) // 3_600_000):
        batch = list(group)
        encoded = [json.dumps(r).encode() for r in batch]
        delivery.deliver(encoded, batch_id=f"h{hour}", arrival=hour * 3_600)
        windows.add(batch)
    delivery.close()
    assert windows.late == 0
    pipeline.crawler(tmp_path).crawl()
    lake = Lake(pipeline.catalog(tmp_path))
    warehouse = Warehouse(pipeline.here(tmp_path).warehouse)
    warehouse.load(pipeline.here(tmp_path).lake / EVENTS)
    try:
        asked = questions("2026-05-27", "2026-05-28", 18)
        assert [q.paths() for q in asked] == [
            ["stream", "lake", "warehouse"],
            ["stream", "lake", "warehouse"],
            ["lake", "warehouse"],
            ["stream", "lake"],
            ["stream", "lake"],
        ]
        for question in asked:
            from_lake = rows(lake.query(question.lake).table)
            assert from_lake and from_lake != [(0,)], question.name
            if question.stream is not None:
                assert same(question.stream(list(windows.closed)), from_lake), question.name
            if question.warehouse is not None:
                found = [tuple(r) for r in warehouse.db.execute(question.warehouse).fetchall()]
                assert same(found, from_lake), question.name
        day = Span("2026-05-27")
        expected = sum(
            1
            for r in records
            if r["name"] == "page_view" and day.start_ms <= r["event_time"] < day.end_ms
        )
        assert rows(lake.query(asked[0].lake).table) == [(expected,)]
    finally:
        lake.close()
        warehouse.close()


def test_spans_name_their_partitions() -> None:
    day, hour = Span("2026-05-27"), Span("2026-05-28", 9)
    assert day.partitions == "dt = '2026-05-27'"
    assert hour.partitions == "dt = '2026-05-28' AND hour = '09'"
    assert day.end_ms - day.start_ms == 86_400_000
    assert hour.start_ms == Span("2026-05-28").start_ms + 9 * 3_600_000
    assert str(hour) == "2026-05-28 09:00-10:00"


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ([("car", 3, 10.0)], [("car", 3, 10.004)], True),
        ([("car", 3, 10.0)], [("car", 3, 10.05)], False),
        ([("car", 3, 10.0)], [("car", 4, 10.0)], False),
        ([("car", 3, 10.0)], [("car", 3, 10.0), ("home", 1, 5.0)], False),
        ([], [], True),
    ],
)
def test_same_allows_only_a_cent_on_sums(
    a: list[tuple[Any, ...]], b: list[tuple[Any, ...]], alike: bool
) -> None:
    assert same(a, b) is alike
