"""The console in a real browser: live numbers arrive, the diagram has every node, the Redrive
button moves dead letters back, and the gallery shows a real images API's images. Chromium comes
from the system (never downloaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from archlab.blocks import Queue as QueueBlock
from archlab.blocks.bucket import Bucket
from archlab.blocks.table import Table
from archlab.console import serve
from archlab.engines.base import MessagingEngine
from archlab.engines.objectstore import connect_objects
from archlab.engines.tables import connect_tables
from archlab.systems.images.api import create_app as images_app
from archlab.systems.images.catalog import Catalog, Upload
from archlab.systems.images.renditions import RenditionSet
from archlab.topology import Topology
from tests.console.conftest import dead_letter
from tests.images import samples


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    """An images catalog on temporary engines (no object-created events: the test processes
    originals itself)."""
    bucket = Bucket.create(
        connect_objects(f"file:///{tmp_path}/objects"), "images-media", signing_key=b"k" * 32
    )
    table = Table.create(
        connect_tables(f"sqlite:///{tmp_path}/tables.db"),
        "images-metadata",
        partition_key="pk",
        sort_key="sk",
    )
    sizes = {"thumb": 160, "mobile": 480, "tablet": 1024, "desktop": 1920}
    return Catalog(bucket, table, RenditionSet(sizes))


@pytest.fixture
def images_url(catalog: Catalog) -> Iterator[str]:
    server, thread = serve(images_app(catalog), port=0)
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


def test_gallery_shows_images_and_previews_devices(
    browser: Browser,
    console_url: str,
    images_url: str,
    catalog: Catalog,
    state: dict[str, Any],
) -> None:
    uploads = [
        (samples.jpeg(2400, 1600), Upload("ann", "eu-west", "claims")),
        (samples.jpeg(1200, 1200), Upload("bob", "us-east", "claims")),
        (samples.jpeg(800, 600), Upload("cat", "eu-west", "profiles")),
    ]
    items = [catalog.upload(data, upload) for data, upload in uploads]
    for item in items[:2]:  # the last one stays pending: the gallery shows its original
        catalog.process(item["original"])
    state["endpoints"] = {"images": images_url}
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(console_url)

    tiles = page.locator("#gallery-tiles .tile")
    expect(tiles).to_have_count(3)
    for index, item in enumerate(reversed(items)):  # newest first
        tile = tiles.nth(index)
        expect(tile).to_have_attribute("data-id", item["id"])
        thumb = tile.locator("img.thumb")
        expect(thumb).to_have_attribute(
            "src", f"{images_url}/images/{item['id']}?w=320" + ("&v=pending" if index == 0 else "")
        )
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
    expect(tiles.nth(0).locator(".status-tag")).to_have_text("pending")
    expect(tiles.nth(1).locator(".status-tag")).to_have_text("ready")
    expect(tiles.nth(1).locator(".owner")).to_have_text("bob")
    expect(tiles.nth(1).locator(".size")).to_have_text("1200\u00d71200")

    tiles.nth(2).click()  # ann's 2400 x 1600
    page.get_by_role("button", name="tablet").click()

    preview = page.locator("#gallery-preview-image")
    expect(preview).to_have_attribute("src", f"{images_url}/images/{items[0]['id']}?device=tablet")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )
    # A tablet wants 2048 px: from a 2400-pixel source, tablet@2x is exactly that wide.
    serves = page.locator("#gallery-preview .serves")
    expect(serves).to_contain_text("A tablet wants 2048 px")
    expect(serves.locator('tr[data-format="jpeg"] td').nth(1)).to_have_text("tablet@2x.jpg")
    expect(serves.locator('tr[data-format="avif"] td').nth(1)).to_have_text("tablet@2x.avif")
    assert page.evaluate("document.getElementById('gallery-preview-image').naturalWidth") == 2048
    page.screenshot(path="/tmp/gallery.png", full_page=True)
    assert errors == []
