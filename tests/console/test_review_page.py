"""The console's review page: any system at any profile drawn with its findings beside it,
the running one first; in a real browser, a finding's resource link leads to its node."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect


def test_the_review_page_shows_the_running_system_by_default(client: TestClient) -> None:
    page = client.get("/review")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'purchases <span class="profile">· topic profile</span>' in html
    assert 'class="running"' in html  # the running profile is marked in the navigation
    assert "<svg" in html and "OPS-DLQ-ALARM" in html
    assert "a car purchase reaches its backend" in html


def test_a_fragile_profile_lists_its_high_findings_with_fixes(client: TestClient) -> None:
    html = client.get("/review", params={"system": "storefront", "profile": "single"}).text
    assert '<span class="count high">6 high</span>' in html
    assert '<li class="high"><div class="finding-head"><code>REL-SPOF</code>' in html
    assert "Fix: Associate an AWS WAF web ACL" in html
    assert "REL10-BP01 Deploy the workload to multiple locations" in html
    assert 'aria-current="page"' in html


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"system": "nosuch"}, "no system called 'nosuch'"),
        ({"system": "storefront", "profile": "triple"}, "storefront has no profile 'triple'"),
    ],
)
def test_an_unknown_system_or_profile_is_a_404_problem(
    client: TestClient, params: dict[str, str], detail: str
) -> None:
    response = client.get("/review", params=params)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]


def test_the_console_links_to_the_review(client: TestClient) -> None:
    assert 'href="/review"' in client.get("/").text


def test_the_review_page_in_a_browser(console_url: str, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{console_url}/review?system=storefront&profile=single")
    expect(page.locator("ol.findings li")).to_have_count(11)
    marked = page.locator("svg.review g.node.finding.high")
    expect(marked.first).to_be_visible()
    assert marked.count() >= 4  # the load balancer, both tiers and the database
    page.locator("ol.findings li.high a.where", has_text="web").first.click()
    assert page.evaluate("location.hash") == "#node-web"
    page.get_by_role("link", name="ha").first.click()
    expect(page.locator(".count.high")).to_have_text("0 high")
    shots = Path(os.environ.get("ARCHLAB_SCREENSHOTS", tmp_path))
    page.goto(f"{console_url}/review?system=storefront&profile=single")
    page.screenshot(path=str(shots / "review-storefront-single.png"), full_page=True)
    page.close()
