"""The clickstream's tracker on the shop's pages, when the clickstream system runs.

Whether it runs, and where its collector listens, is what the running supervisor's
``state.json`` says (its ``clickstream`` endpoint), read at most once every ``STATE_TTL_S``.
When it runs, every page loads ``tracker.js`` from the collector and may post to it: the page's
Content-Security-Policy names the collector's origin in ``script-src`` and ``connect-src``, and
nothing else changes. When it does not, pages carry no tracker and the policy stays
``'self'`` only.

What the pages tell the tracker: the product page's "Add to cart" sends ``add_to_cart`` and the
cart's "Go to checkout" ``begin_checkout`` (``data-track`` on the control), and an order's page,
right after it was placed, one ``purchase`` per policy (``data-track-load`` elements, sent when
the page loads) -- with the product, its coverage type and its monthly premium.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from archlab import settings
from archlab.runtime.supervisor import read_state
from archlab.systems.storefront.web.visit import CONTENT_SECURITY_POLICY

STATE_TTL_S = 2.0
ENDPOINT = "clickstream"


class Tracking:
    def __init__(
        self, home: Path | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._home = home
        self._clock = clock
        self._lock = threading.Lock()
        self._looked: tuple[float, str | None] | None = None

    def collector(self) -> str | None:
        """The running collector's origin (``http://127.0.0.1:8083``), or None."""
        with self._lock:
            now = self._clock()
            if self._looked is None or now - self._looked[0] >= STATE_TTL_S:
                state = read_state(self._home or settings.home()) or {}
                origin = state.get("endpoints", {}).get(ENDPOINT)
                self._looked = (now, str(origin).rstrip("/") if origin else None)
            return self._looked[1]


def content_security_policy(collector: str | None) -> str:
    """The pages' policy: the shop's own, with the collector allowed when there is one."""
    if collector is None:
        return CONTENT_SECURITY_POLICY
    return (
        f"{CONTENT_SECURITY_POLICY}; script-src 'self' {collector}; connect-src 'self' {collector}"
    )
