"""The shop in a real browser, over the real application tier on SQLite: browse, add to the
cart, a checkout refused with the reason next to the field, then placed, and the order in the
history; on a phone-sized screen the pages fit without sideways scrolling. Chromium comes from
the system (never downloaded)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from archlab.clock import SystemClock
from archlab.console import serve
from archlab.systems.storefront.api import create_app
from archlab.systems.storefront.cache import MemoryCache
from archlab.systems.storefront.database import Database
from archlab.systems.storefront.web import create_web_app


@pytest.fixture
def shop(sqlite_url: str) -> Iterator[str]:
    """The web tier and the application tier, each on a real HTTP server."""
    database = Database(sqlite_url)
    api, api_thread = serve(
        create_app(database, MemoryCache(), clock=SystemClock(), feed=lambda order: None), port=0
    )
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.config.port}", timeout=10)
    web, web_thread = serve(create_web_app(client, secret=b"s" * 32), port=0)
    yield f"http://127.0.0.1:{web.config.port}"
    for server, thread in ((web, web_thread), (api, api_thread)):
        server.should_exit = True
        thread.join(5)
    database.dispose()


def fill_checkout(page: Page, card: str) -> None:
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Email address").fill("grace@example.com")
    page.get_by_label("Address line 1").fill("1 Navy Way")
    page.get_by_label("Town or city").fill("Arlington")
    page.get_by_label("State, county or region").fill("VA")
    page.get_by_label("Postal code").fill("22202")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry date").fill("12/30")
    page.get_by_label("Security code").fill("123")


def test_a_shopper_buys_a_policy(browser: Browser, shop: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(shop)
    products = page.locator("h3 a")
    expect(products.first).to_be_visible()
    assert products.count() >= 6
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

    products.first.click()
    name = page.locator("h1").inner_text()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".notice")).to_be_visible()

    page.goto(f"{shop}/cart")
    expect(page.get_by_text(name).first).to_be_visible()
    page.get_by_role("link", name="Go to checkout").click()
    expect(page.locator("h1")).to_have_text("Checkout")

    fill_checkout(page, "4242 4242 4242 4241")  # fails the Luhn check
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    card = page.get_by_label("Card number")
    expect(card).to_have_attribute("aria-invalid", "true")
    expect(card).to_have_value("")  # a card number is never sent back to the page
    page.screenshot(path=str(tmp_path / "checkout-error.png"), full_page=True)

    fill_checkout(page, "4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Order [0-9a-f-]{36}$"))
    expect(page.get_by_role("status")).to_contain_text("your order is placed")
    order = page.locator("h1").inner_text().removeprefix("Order ")
    expect(page.get_by_text(name).first).to_be_visible()

    page.goto(f"{shop}/orders")
    expect(page.get_by_role("link", name=f"Order {order}")).to_be_visible()
    page.goto(f"{shop}/cart")
    expect(page.get_by_role("link", name="Browse insurance")).to_be_visible()  # emptied


@pytest.mark.parametrize("path", ["/", "/cart", "/checkout", "/orders"])
def test_pages_fit_a_phone_screen(
    browser: Browser,
    shop: str,
    path: str,
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    page.goto(shop + "/")
    page.locator("h3 a").first.click()
    page.get_by_role("button", name="Add to cart").click()
    page.goto(shop + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow} px"
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
