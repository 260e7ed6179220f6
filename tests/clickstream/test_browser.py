"""The tracker in a real browser on the shop's pages: a shopper's visit -- the home page, a
product, add to cart, checkout, the order placed -- arrives at the collector as the events the
funnel counts, with the purchase's coverage and premium, and parsed into a desktop device.

The browser is Debian's Chromium with an ordinary desktop User-Agent: its own says
``HeadlessChrome``, which the collector drops as a bot, beacons included."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from archlab.blocks.stream import Stream
from archlab.clock import SystemClock
from archlab.console import serve
from archlab.engines.streams import connect_streams
from archlab.systems.clickstream.collector import create_collector_app
from archlab.systems.storefront.api import create_app
from archlab.systems.storefront.cache import MemoryCache
from archlab.systems.storefront.database import Database, migrate
from archlab.systems.storefront.web import create_web_app
from tests.clickstream.test_collector import BROWSER
from tests.conftest import CHROMIUM, REQUIRE_EXTERNALS
from tests.runtime.test_workers import eventually
from tests.storefront.test_browser import fill_checkout


@pytest.fixture
def desktop_browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`"
        if REQUIRE_EXTERNALS:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[f"--user-agent={BROWSER}"]
        )
        yield browser
        browser.close()


@pytest.fixture
def stream(tmp_path: Path) -> Stream:
    return Stream.create(connect_streams(f"sqlite:///{tmp_path}/streams.db"), "clicks", 2)


@pytest.fixture
def shop_with_tracker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: Stream
) -> Iterator[str]:
    """The shop's two tiers and the collector on real HTTP servers, and a state file saying
    the clickstream runs (as the supervisor writes it) so the pages load the tracker."""
    collector, collector_thread = serve(create_collector_app(stream), port=0)
    home = tmp_path / "home"
    home.mkdir()
    endpoints = {"clickstream": f"http://127.0.0.1:{collector.config.port}"}
    state = {"pid": os.getpid(), "endpoints": endpoints, "systems": {}}
    (home / "state.json").write_text(json.dumps(state))
    monkeypatch.setenv("ARCHLAB_HOME", str(home))
    url = f"sqlite:///{tmp_path}/storefront.db"
    migrate(url)
    database = Database(url)
    api, api_thread = serve(
        create_app(database, MemoryCache(), clock=SystemClock(), feed=lambda order: None), port=0
    )
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.config.port}", timeout=10)
    web, web_thread = serve(create_web_app(client, secret=b"s" * 32), port=0)
    yield f"http://127.0.0.1:{web.config.port}"
    for server, thread in ((web, web_thread), (api, api_thread), (collector, collector_thread)):
        server.should_exit = True
        thread.join(5)
    database.dispose()


def collected(stream: Stream) -> list[dict[str, Any]]:
    records = []
    for shard in stream.describe().shards:
        page = stream.get_records(stream.get_shard_iterator(shard.shard_id, "TRIM_HORIZON"))
        records += [json.loads(r.data) for r in page.records]
    return records


def names(stream: Stream) -> set[str]:
    return {record["name"] for record in collected(stream)}


def test_a_visit_in_the_browser_reaches_the_collector(
    desktop_browser: Browser, shop_with_tracker: str, stream: Stream
) -> None:
    shop = shop_with_tracker
    page = desktop_browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(shop)
    page.locator("a[href='/products/pet-lifetime']").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".notice")).to_be_visible()
    page.goto(f"{shop}/cart")
    page.get_by_role("link", name="Go to checkout").click()
    fill_checkout(page, "4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Order "))
    page.evaluate("window.archlab.flush()")  # the rest of this page's events, now

    expected = {"page_view", "click", "add_to_cart", "begin_checkout", "purchase"}
    eventually(lambda: expected <= names(stream), timeout=15)
    assert errors == []  # the page's policy let the tracker load and post
    records = collected(stream)
    purchase = next(r for r in records if r["name"] == "purchase")
    assert purchase["product_id"] == "pet-lifetime" and purchase["coverage"] == "pet"
    assert purchase["value"] > 0 and purchase["currency"]
    viewed = {r["page"] for r in records if r["name"] == "page_view"}
    assert {"/", "/products/pet-lifetime", "/cart", "/checkout"} <= viewed
    assert {r["device_type"] for r in records} == {"desktop"}
    assert len({r["session_id"] for r in records}) == 1  # one visit, one session
    assert all(r["ip"] == "127.0.0.0" for r in records)  # truncated
