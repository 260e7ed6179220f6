"""The console's clickstream dashboard: ``/api/clickstream`` over a small lake made here (events
through the delivery stream, flushed, crawled in a temporary ARCHLAB_HOME), the empty states,
the live panel read from ``panel.json``, the collector's counters from a real collector, the
cache, and the charts drawn in a real browser."""

from __future__ import annotations

import json
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from archlab.blocks.stream import Stream
from archlab.console import charts, clickstream, create_app, serve
from archlab.engines.streams import connect_streams
from archlab.systems.clickstream import pipeline
from archlab.systems.clickstream.collector import create_collector_app
from archlab.systems.clickstream.events import check, client
from archlab.systems.clickstream.topology import lake as clickstream_topology
from archlab.systems.clickstream.traffic import visits
from archlab.systems.clickstream.windows import WINDOW_MS, TumblingWindows
from tests.clickstream.test_collector import BROWSER

PROBLEM = "application/problem+json"
SVG = "{http://www.w3.org/2000/svg}"


def state(collector: str | None = None) -> dict[str, Any]:
    """A supervisor's state with the clickstream running (its collector at ``collector``)."""
    topology = clickstream_topology()
    return {
        "pid": 1,
        "started": 0.0,
        "ready_at": 0.0,
        "messaging_url": "",
        "endpoints": {"clickstream": collector} if collector else {},
        "systems": {
            "clickstream": {"profile": "lake", "topology": json.loads(topology.to_json(None))}
        },
        "queues": {},
        "pools": [],
        "functions": [],
        "workers": [],
    }


def make_records(events: int, seed: int = 1) -> list[dict[str, Any]]:
    """Shoppers' visits over the last day, checked as the collector checks them."""
    now_ms = int(time.time() * 1000)
    made: list[dict[str, Any]] = []
    for visit in visits(events, days=1, now_ms=now_ms, seed=seed):
        arrival = min(max(int(e["time"]) for e in visit.events) + 1_000, now_ms)
        made += check(visit.events, client(visit.ip, visit.user_agent), arrival).records
    return made


def deliver(home: Path, records: list[dict[str, Any]]) -> None:
    """Into the lake as the system does it: delivery stream, flushed, then crawled."""
    delivery = pipeline.delivery_stream(home)
    for start in range(0, len(records), 500):
        chunk = records[start : start + 500]
        delivery.put_record_batch([json.dumps(r, separators=(",", ":")).encode() for r in chunk])
    assert delivery.flush().records == len(records)


def crawl(home: Path) -> None:
    pipeline.crawler(home).crawl()


@dataclass
class Expected:
    page_views: int
    top_pages: list[dict[str, Any]]
    funnel: dict[str, int]
    purchases: dict[str, tuple[int, float]]


def expected(records: list[dict[str, Any]]) -> Expected:
    views = [r for r in records if r["name"] == "page_view"]
    pages = Counter(r["page"] for r in views)
    top = sorted(pages.items(), key=lambda item: (-item[1], item[0]))[:10]

    def sessions(name: str) -> int:
        return len({r["session_id"] for r in records if r["name"] == name})

    bought: dict[str, tuple[int, float]] = {}
    for r in records:
        if r["name"] == "purchase":
            n, total = bought.get(r["coverage"] or "unknown", (0, 0.0))
            bought[r["coverage"] or "unknown"] = (n + 1, total + r["value"])
    return Expected(
        len(views),
        [{"page": page, "page_views": n} for page, n in top],
        {
            "view": sessions("page_view"),
            "cart": sessions("add_to_cart"),
            "checkout": sessions("begin_checkout"),
            "purchase": sessions("purchase"),
        },
        bought,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def records() -> list[dict[str, Any]]:
    return make_records(3_000)


@pytest.fixture
def lake(home: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    deliver(home, records)
    crawl(home)
    return records


@pytest.fixture
def collector_url(home: Path) -> Iterator[str]:
    """A real collector, on a stream of its own, with one batch posted to it (two events kept,
    one refused) and one bot's batch."""
    stream = Stream.create(connect_streams(f"sqlite:///{home}/collector.db"), "clicks", 1)
    server, thread = serve(create_collector_app(stream), port=0)
    url = f"http://127.0.0.1:{server.config.port}"
    now = int(time.time() * 1000)
    batch = [
        {"name": "page_view", "time": now, "session": "s1", "visitor": "v1", "page": "/"},
        {"name": "page_view", "time": now, "session": "s1", "visitor": "v1", "page": "/cart"},
        {"name": "no_such_event", "time": now, "session": "s1", "visitor": "v1", "page": "/"},
    ]
    for agent in (BROWSER, "Googlebot/2.1"):
        httpx.post(
            f"{url}/collect",
            content=json.dumps({"events": batch}),
            headers={"Content-Type": "text/plain", "User-Agent": agent},
        ).raise_for_status()
    yield url
    server.should_exit = True
    thread.join(5)


def console(home: Path, collector: str | None = None) -> tuple[FastAPI, TestClient]:
    current = state(collector)
    app = create_app(lambda: current, f"sqlite:///{home}/messaging.db", home=home)
    return app, TestClient(app)


def write_panel(home: Path, windows: TumblingWindows) -> dict[str, Any]:
    panel = windows.panel()
    path = pipeline.here(home).panel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(panel), encoding="utf-8")
    return json.loads(json.dumps(panel))  # as read back: lists, not tuples


def window_records(start_ms: int, minutes: list[int], purchases: int = 2) -> list[dict[str, Any]]:
    """``minutes[i]`` page views in the i-th minute from ``start_ms``, purchases in each."""
    made: list[dict[str, Any]] = []
    for index, views in enumerate(minutes):
        at = start_ms + index * WINDOW_MS + 1_000
        made += [
            {"name": "page_view", "page": f"/p{n % 3}", "event_time": at} for n in range(views)
        ]
        made += [
            {"name": "purchase", "coverage": ("car", "pet")[n % 2], "value": 10.0, "event_time": at}
            for n in range(purchases)
        ]
    return made


# --- the JSON ------------------------------------------------------------------------------


def test_the_dashboard_answers_from_the_lake(
    home: Path, lake: list[dict[str, Any]], collector_url: str
) -> None:
    want = expected(lake)
    _, api = console(home, collector_url)

    response = api.get("/api/clickstream")

    assert response.status_code == 200
    body = response.json()
    found = body["lake"]
    assert found["status"] == "ready" and found["days"] == clickstream.DEFAULT_DAYS
    assert sum(row["page_views"] for row in found["traffic"]) == want.page_views
    assert all(set(row) == {"dt", "hour", "page_views", "sessions"} for row in found["traffic"])
    assert found["top_pages"] == want.top_pages
    steps = {step["step"]: step for step in found["funnel"]}
    assert {name: step["sessions"] for name, step in steps.items()} == want.funnel
    assert steps["view"]["of_previous"] == 1.0
    assert steps["cart"]["of_previous"] == pytest.approx(
        want.funnel["cart"] / want.funnel["view"], abs=1e-4
    )
    assert steps["purchase"]["of_first"] == pytest.approx(
        want.funnel["purchase"] / want.funnel["view"], abs=1e-4
    )
    bought = {row["coverage"]: (row["purchases"], row["revenue"]) for row in found["purchases"]}
    assert bought.keys() == want.purchases.keys()
    for coverage, (n, revenue) in want.purchases.items():
        assert bought[coverage][0] == n and bought[coverage][1] == pytest.approx(revenue, abs=0.01)
    queries = {q["name"]: q for q in found["queries"]}
    assert set(queries) == {"traffic", "top_pages", "funnel", "purchases"}
    assert all(q["elapsed_ms"] > 0 and q["bytes_scanned"] > 0 for q in queries.values())

    assert body["collector"]["status"] == "ready"
    stats = body["collector"]["stats"]
    assert (stats["accepted"], stats["refused"], stats["bot_events"]) == (2, 1, 3)
    assert body["stream"]["status"] == "empty"  # no windows function ran here


def test_days_are_checked_and_choose_the_days_read(home: Path, lake: list[dict[str, Any]]) -> None:
    _, api = console(home)
    week = api.get("/api/clickstream", params={"days": 7}).json()["lake"]
    today = api.get("/api/clickstream", params={"days": 1}).json()["lake"]
    assert today["since"] > week["since"]
    views = sum(1 for r in lake if r["name"] == "page_view" and r["event_date"] >= today["since"])
    assert sum(row["page_views"] for row in today["traffic"]) == views
    assert all(row["dt"] >= today["since"] for row in today["traffic"])

    bad = api.get("/api/clickstream", params={"days": 0})
    assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM
    assert "days" in bad.json()["detail"]
    assert api.get("/api/clickstream", params={"days": 91}).status_code == 400


def test_before_the_first_crawl_the_lake_is_empty_not_an_error(
    home: Path, records: list[dict[str, Any]]
) -> None:
    app, api = console(home)
    app.state.clickstream.cache_s = 0  # every request answers afresh
    first = api.get("/api/clickstream").json()
    assert first["lake"]["status"] == "empty"
    assert first["lake"]["detail"].startswith("No events in the lake yet")
    assert first["stream"]["status"] == "empty"
    assert first["collector"] == {"status": "absent", "detail": "the collector is not running"}

    deliver(home, records)  # files in the lake, but not crawled: still no table
    assert api.get("/api/clickstream").json()["lake"]["status"] == "empty"

    page = api.get("/api/clickstream/fragments").json()["fragments"]
    assert "No events in the lake yet" in page["lake"]
    assert 'data-empty="true"' in page["traffic"] and "waiting for the lake" in page["traffic"]
    assert "<svg" not in page["funnel"]


def test_answers_are_kept_a_few_seconds_then_see_what_was_delivered_since(
    home: Path, lake: list[dict[str, Any]]
) -> None:
    now = [100.0]
    dashboard = clickstream.Dashboard(home, cache_s=3.0, clock=lambda: now[0])
    first = dashboard.data(7)
    views = sum(row["page_views"] for row in first["lake"]["traffic"])

    more = make_records(1_000, seed=2)
    deliver(home, more)
    crawl(home)
    now[0] += 2.9
    assert dashboard.data(7) is first  # cached: the queries did not run again

    now[0] += 0.2
    fresh = dashboard.data(7)
    assert fresh is not first
    added = sum(1 for r in more if r["name"] == "page_view")
    assert sum(row["page_views"] for row in fresh["lake"]["traffic"]) == views + added
    dashboard.close()


def test_the_live_panel_is_read_from_panel_json(home: Path) -> None:
    windows = TumblingWindows(lateness_ms=0, spike_minimum=20)
    start = (int(time.time() * 1000) // WINDOW_MS - 8) * WINDOW_MS
    windows.add(window_records(start, [5, 6, 5, 4, 60, 5]))
    windows.add([{"name": "page_view", "page": "/late", "event_time": start + 1}])  # too late
    panel = write_panel(home, windows)
    assert panel["alerts"] and panel["late_events"] == 1
    _, api = console(home)

    stream = api.get("/api/clickstream").json()["stream"]

    assert stream["status"] == "ready"
    assert stream["windows"] == panel["windows"] and stream["open"] == panel["open"]
    assert stream["alerts"] == panel["alerts"] and stream["late_events"] == 1
    assert time.time() - stream["updated_at"] < 60

    page = api.get("/api/clickstream/fragments").json()["fragments"]
    minutes = svg_of(page["live_minutes"])
    bars = minutes.findall(f".//{SVG}rect[@data-value]")
    values = [float(b.get("data-value", "")) for b in bars]
    assert values == [5.0, 6.0, 5.0, 4.0, 60.0, 5.0] or values[-6:] == [
        5.0,
        6.0,
        5.0,
        4.0,
        60.0,
        5.0,
    ]
    spike = [b for b in bars if "alert" in (b.get("class") or "")]
    assert [float(b.get("data-value", "")) for b in spike] == [60.0]
    assert "open" in (bars[-1].get("class") or "")  # the last minute is still counting
    assert "60 page views in a minute" in page["alerts"]
    assert re.search(r"<strong>1</strong> late event:", page["alerts"])
    last = svg_of(page["live_purchases"])  # the last closed window's purchases
    assert sorted(b.get("data-label") for b in last.iter(f"{SVG}rect") if b.get("data-value")) == [
        "car",
        "pet",
    ]


def test_a_broken_panel_or_a_collector_gone_are_reported_in_their_place(home: Path) -> None:
    path = pipeline.here(home).panel
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    _, api = console(home, f"http://127.0.0.1:{port}")

    body = api.get("/api/clickstream").json()

    assert (
        body["stream"]["status"] == "error" and "not the panel's JSON" in body["stream"]["detail"]
    )
    assert body["collector"]["status"] == "error"
    assert body["collector"]["detail"].startswith(f"cannot reach http://127.0.0.1:{port}")
    assert body["lake"]["status"] == "empty"
    page = api.get("/api/clickstream/fragments").json()["fragments"]
    assert 'class="alert"' in page["collector"] and 'class="alert"' in page["stream"]


def test_without_the_clickstream_there_is_no_dashboard(client: TestClient) -> None:
    response = client.get("/api/clickstream")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert "archlab up clickstream" in response.json()["detail"]
    assert client.get("/api/clickstream/fragments").status_code == 404
    assert 'id="clickstream"' not in client.get("/").text


def test_the_page_has_the_dashboard_when_the_clickstream_runs(home: Path) -> None:
    _, api = console(home)
    page = api.get("/").text
    assert 'id="clickstream"' in page and 'id="clickstream-days"' in page
    for slot in clickstream.SLOTS:
        assert f'data-slot="{slot}"' in page
    assert "/api/clickstream/fragments" in page
    assert not re.search(r'(src|href)="https?://', page)  # nothing from outside


def test_the_console_starts_without_importing_duckdb() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import archlab.console; import archlab.console.app;"
        " print('duckdb' in sys.modules, 'pyarrow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- the charts ----------------------------------------------------------------------------


def svg_of(fragment: str) -> ElementTree.Element:
    """A fragment's chart (fragments are well-formed: they parse as XML)."""
    found = ElementTree.fromstring(f"<div>{fragment}</div>").find(f".//{SVG}svg")
    assert found is not None, fragment[:200]
    return found


def test_the_charts_draw_their_data(home: Path, lake: list[dict[str, Any]]) -> None:
    want = expected(lake)
    _, api = console(home)
    page = api.get("/api/clickstream/fragments").json()["fragments"]
    assert set(page) == set(clickstream.SLOTS)

    traffic = svg_of(page["traffic"])
    assert traffic.get("role") == "img"
    labelled = (traffic.get("aria-labelledby") or "").split()
    assert [traffic.find(f"{SVG}title"), traffic.find(f"{SVG}desc")] != [None, None]
    assert {e.get("id") for e in traffic if e.tag in (f"{SVG}title", f"{SVG}desc")} == set(labelled)
    bars = traffic.findall(f".//{SVG}rect[@data-value]")
    assert len(bars) >= clickstream.MIN_HOURS
    assert sum(float(b.get("data-value", "")) for b in bars) == want.page_views
    assert all(b.find(f"{SVG}title") is not None for b in bars)  # a tooltip each
    assert traffic.find(f".//{SVG}polyline") is not None  # sessions
    heights = {float(b.get("data-value", "")): float(b.get("height", "")) for b in bars}
    tallest = max(heights)
    for value, height in heights.items():  # one scale: height proportional to value
        assert height == pytest.approx(heights[tallest] * value / tallest, abs=0.11)

    top = svg_of(page["top_pages"])
    rows = [
        (r.get("data-label"), float(r.get("data-value", "")))
        for r in top.iter(f"{SVG}rect")
        if r.get("data-value")
    ]
    assert rows == [(p["page"], p["page_views"]) for p in want.top_pages]

    funnel = svg_of(page["funnel"])
    steps = [
        float(r.get("data-value", "")) for r in funnel.iter(f"{SVG}rect") if r.get("data-value")
    ]
    assert steps == [float(want.funnel[s]) for s in ("view", "cart", "checkout", "purchase")]
    badges = [t.text for t in funnel.findall(f".//{SVG}g/{SVG}text")]
    share = want.funnel["cart"] / want.funnel["view"]  # whole percent from 10% up
    percent = f"{share * 100:.0f}%" if share >= 0.1 else f"{share * 100:.1f}%"
    assert badges[0] == f"\u2192 {percent}"
    assert "of the sessions that viewed a page purchased" in page["funnel"]

    purchases = svg_of(page["purchases"])
    drawn = {
        r.get("data-label"): float(r.get("data-value", ""))
        for r in purchases.iter(f"{SVG}rect")
        if r.get("data-value")
    }
    assert drawn == {c: float(n) for c, (n, _) in want.purchases.items()}
    assert "<table>" in page["purchases"]  # the numbers, for those who cannot see the bars
    assert "ms" in page["queries"] and "kB" in page["queries"]


def test_labels_are_escaped_and_ticks_are_round() -> None:
    bars = [charts.Bar('<script>alert("x")</script>', 3, "t & <b>", "3")]
    svg = charts.rows("k", "T <i>", "D", bars)
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    ElementTree.fromstring(svg)  # well-formed
    assert charts.ticks(0) == [0.0, 1.0]
    assert charts.ticks(3) == [0.0, 1.0, 2.0, 3.0]
    assert charts.ticks(744) == [0.0, 200.0, 400.0, 600.0, 800.0]
    assert charts.ticks(2322) == [0.0, 1000.0, 2000.0, 3000.0]
    assert charts.ticks(17) == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert [charts.compact(v) for v in (950, 1000, 1500, 15_000, 1_500_000)] == [
        "950",
        "1k",
        "1.5k",
        "15k",
        "1.5M",
    ]


# --- in a browser ----------------------------------------------------------------------------


@pytest.fixture
def dashboard_url(home: Path, lake: list[dict[str, Any]], collector_url: str) -> Iterator[str]:
    windows = TumblingWindows(lateness_ms=0, spike_minimum=20)
    start = (int(time.time() * 1000) // WINDOW_MS - 12) * WINDOW_MS
    windows.add(window_records(start, [8, 9, 7, 10, 8, 9, 11, 8, 70, 12, 9, 6]))
    write_panel(home, windows)
    app, _ = console(home, collector_url)
    server, thread = serve(app, port=0)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(5)


def test_the_dashboard_fills_in_a_browser(browser: Browser, dashboard_url: str) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(dashboard_url)

    card = page.locator("#clickstream")
    for chart in ("traffic", "top_pages", "funnel", "purchases", "live_minutes", "live_purchases"):
        expect(card.locator(f'figure[data-chart="{chart}"] svg[role="img"]')).to_be_visible()
        assert card.locator(f'figure[data-chart="{chart}"] rect[data-value]').count() > 0
    expect(card.locator('[data-slot="lake"]')).to_contain_text("page views by")
    expect(card.locator('[data-counter="accepted"] dd')).to_have_text("2")
    expect(card.locator(".alert-item")).to_contain_text("70 page views in a minute")
    expect(card.locator('[data-slot="queries"]')).to_contain_text("scanned")
    box = card.locator('figure[data-chart="traffic"] svg.c-chart').bounding_box()
    assert box is not None and box["width"] > 1000 and box["height"] > 150

    card.locator('figure[data-chart="funnel"] summary').click()  # the numbers as a table
    expect(card.locator('figure[data-chart="funnel"] details table')).to_be_visible()
    card.locator("#clickstream-days").select_option("1")
    expect(card.locator('[data-slot="lake"]')).to_contain_text("The lake since")
    card.screenshot(path="/tmp/archlab-clickstream-dashboard.png")

    narrow = browser.new_page(viewport={"width": 390, "height": 800})
    narrow.goto(dashboard_url)
    expect(
        narrow.locator('#clickstream figure[data-chart="purchases"] svg.c-chart')
    ).to_be_visible()
    width = narrow.locator("#clickstream").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert width, "the card fits a phone's width (wide charts scroll inside it)"
    narrow.locator("#clickstream").screenshot(path="/tmp/archlab-clickstream-dashboard-phone.png")
    assert errors == []


def test_a_failure_in_the_console_is_a_problem_too(tmp_path: Path) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("the supervisor's state is unreadable")

    app = create_app(broken, f"sqlite:///{tmp_path}/messaging.db", home=tmp_path)
    response = TestClient(app, raise_server_exceptions=False).get("/api/clickstream")
    assert response.status_code == 500 and response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "the console failed: RuntimeError"
