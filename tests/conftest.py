"""Shared test settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from playwright.sync_api import Browser, sync_playwright

# CI runs with ARCHLAB_REQUIRE_SERVICES=1: there, anything a test needs from outside the
# project (a server, the shared conformance cases) must be present, so tests fail instead of
# skipping.
REQUIRE_EXTERNALS = os.environ.get("ARCHLAB_REQUIRE_SERVICES") == "1"

settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright (a browser is never downloaded)."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`"
        if REQUIRE_EXTERNALS:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()
