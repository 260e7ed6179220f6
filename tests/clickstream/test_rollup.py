"""The session-hours rollup: the dashboard's answers are the same from the rollup as from the
events alone, an hour whose events changed is read raw until it is rolled up again, and a run
rebuilds only the hours that changed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from archlab.lake.query import Lake
from archlab.systems.clickstream import dashboard, pipeline
from archlab.systems.clickstream.rollup import MANIFEST, SESSION_HOURS
from tests.console.test_clickstream_dashboard import crawl, deliver, expected, make_records


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    return tmp_path


def answers(home: Path, *, raw: bool = False) -> dict[str, list[dict[str, Any]]]:
    lake = Lake(pipeline.catalog(home))
    try:
        if raw:
            sql = dashboard.queries(7)
            return {name: lake.query(text).table.to_pylist() for name, text in sql.items()}
        return {answer.name: answer.rows for answer in dashboard.answer(lake, 7)}
    finally:
        lake.close()


def fresh(home: Path) -> dict[str, list[str]]:
    lake = Lake(pipeline.catalog(home))
    try:
        return dashboard.fresh_hours(lake, dashboard.since(7))
    finally:
        lake.close()


def hours_of(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(r["event_date"], r["event_hour"]) for r in records}


def test_the_rollup_answers_as_the_events_do(home: Path) -> None:
    records = make_records(3_000)
    deliver(home, records)
    crawl(home)
    report = pipeline.session_hours(home).run()
    assert set(report.hours_rolled) == hours_of(records) and report.rows > 0
    assert {(d, h) for d, hours in fresh(home).items() for h in hours} == hours_of(records)
    rolled, raw = answers(home), answers(home, raw=True)
    assert rolled == raw
    want = expected(records)
    assert rolled["funnel"] == [want.funnel]
    assert sum(row["page_views"] for row in rolled["traffic"]) == want.page_views


def test_the_queries_read_the_rollup_for_fresh_hours_and_the_events_for_the_rest() -> None:
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    sql = dashboard.queries(7, now, {"2026-12-06": [f"{h:02d}" for h in range(24)]})
    assert "clickstream.session_hours" in sql["traffic"] and "dt = '2026-12-06'" in sql["funnel"]
    assert "NOT (dt = '2026-12-06')" in sql["funnel"]
    partial = dashboard.queries(7, now, {"2026-12-07": ["10", "11"]})
    assert "(dt = '2026-12-07' AND hour IN ('10', '11'))" in partial["traffic"]
    assert "session_hours" not in dashboard.queries(7, now)["funnel"]


def test_an_hour_with_new_events_is_read_raw_until_it_is_rolled_up_again(home: Path) -> None:
    first = make_records(2_000, seed=1)
    deliver(home, first)
    crawl(home)
    pipeline.session_hours(home).run()
    late = [
        r
        for r in make_records(400, seed=2)
        if (r["event_date"], r["event_hour"]) in hours_of(first)
    ]
    assert late
    deliver(home, late)  # new files in hours already rolled up
    crawl(home)
    changed = hours_of(late)
    stale = {(d, h) for d, hours in fresh(home).items() for h in hours}
    assert not stale & changed and stale == hours_of(first) - changed
    both = first + late
    assert answers(home)["funnel"] == [expected(both).funnel]
    assert answers(home) == answers(home, raw=True)
    again = pipeline.session_hours(home).run()
    assert set(again.hours_rolled) == changed
    assert again.hours_unchanged == len(hours_of(first) - changed)
    assert answers(home) == answers(home, raw=True)
    assert pipeline.session_hours(home).run().hours_rolled == []


def test_without_its_manifest_the_rollup_is_not_used_and_nothing_is_wrong(home: Path) -> None:
    records = make_records(1_500, seed=3)
    deliver(home, records)
    crawl(home)
    pipeline.session_hours(home).run()
    manifest = pipeline.here(home).lake / SESSION_HOURS / MANIFEST
    assert json.loads(manifest.read_text())
    manifest.unlink()
    assert fresh(home) == {}
    assert answers(home)["funnel"] == [expected(records).funnel]
    assert pipeline.session_hours(home).run().hours_rolled  # built again
    assert fresh(home)
