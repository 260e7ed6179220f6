"""The console in a real browser: live numbers arrive, the diagram has every node, and the
Redrive button moves dead letters back. Chromium comes from the system (never downloaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect, sync_playwright

from archlab.blocks import Queue as QueueBlock
from archlab.console import serve
from archlab.engines.base import MessagingEngine
from archlab.topology import Topology
from tests.conftest import REQUIRE_EXTERNALS
from tests.console.conftest import dead_letter

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`"
        if REQUIRE_EXTERNALS:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def console_url(app: FastAPI) -> Iterator[str]:
    server, thread = serve(app, port=0)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(5)


def test_console_shows_live_state_and_redrives(
    browser: Browser,
    console_url: str,
    engine: MessagingEngine,
    topology: Topology,
    tmp_path: Path,
) -> None:
    dead_letter(engine, "purchases-car", "a car purchase that failed")
    QueueBlock(engine, "purchases-home").send("a home purchase")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(console_url)

    expect(page.locator('[data-queue="purchases-home"] .live')).to_have_text(
        "1 visible · 0 in flight"
    )
    expect(page.locator('[data-pool="purchases-car-backend"] .live')).to_have_text(
        "1 worker · 1 busy"
    )
    zone_b = page.locator('[data-pool="purchases-car-backend"] [data-zone="zone-b"] .count')
    expect(zone_b).to_have_text("0 workers · 0 busy")
    for node in topology.nodes:
        expect(page.locator(f'svg [data-node="{node.id}"]')).to_have_count(1)
    expect(page.locator('[data-queue="purchases-car-dlq"]')).to_have_class(
        "node kind-queue messaging dead-letter alert"
    )
    dead_row = page.locator('#queues tr[data-key="purchases-car-dlq"]')
    expect(dead_row.locator("td").nth(1)).to_have_text("1")
    page.screenshot(path=tmp_path / "before-redrive.png", full_page=True)

    dead_row.get_by_role("button", name="Redrive").click()

    expect(dead_row.locator(".result")).to_have_text("moved 1 message back to purchases-car")
    expect(page.locator('[data-queue="purchases-car"] .live')).to_have_text(
        "1 visible · 0 in flight"
    )
    expect(dead_row.get_by_role("button", name="Redrive")).to_be_hidden()
    screenshot = tmp_path / "console.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 10_000
    assert errors == []
