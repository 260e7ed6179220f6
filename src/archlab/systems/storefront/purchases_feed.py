"""The storefront as one of System A's sources: each policy a checkout sells becomes a purchase
in the purchases system, when that system runs.

Whether it runs, and in which design (dispatcher queue, topic, event bus), is what the running
supervisor's ``state.json`` says; the purchases system's own :class:`Publisher` then sends the
purchases the way that design takes them and records them in its ledger, so ``archlab
purchases report`` counts the storefront's sales with the rest. When purchases does not run,
nothing is sent.

A checkout never fails because of this: the order is committed before the feed is called, and
a failure to publish is logged, not raised. Purchases are keyed by order and line, so the
purchases system's idempotent backends count a policy once however often it is sent.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from archlab import settings
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.runtime.supervisor import read_state
from archlab.systems.purchases import SYSTEM as PURCHASES
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.purchases.publisher import Publisher

log = logging.getLogger(__name__)

DEFAULT_STATE = "CA"
BATCH = 10
STATE_TTL_S = 1.0
"""How long the running purchases profile, once read, is believed."""
"""SQS's and EventBridge's largest batch."""
_US_STATE_CODES = """
    AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH
    NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI
"""
US_STATES = frozenset(_US_STATE_CODES.split())


def purchases_of(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The purchases an order makes (one per line), in System A's shape.

    ``premium`` is the line's yearly premium (the monthly price times twelve, times the
    quantity), the scale of System A's own purchases; ``customer`` is a pseudonym derived from
    the e-mail address, which stays in the storefront; ``state`` is the address's region when it
    is a US state code, else California."""
    region = str(order["address"].get("region") or "").strip().upper()
    email = str(order["customer"]["email"]).strip().lower()
    return [
        {
            "id": f"{order['id']}-{line}",
            "coverage": item["coverage"],
            "customer": "C-" + hashlib.sha256(email.encode()).hexdigest()[:10],
            "state": region if region in US_STATES else DEFAULT_STATE,
            "premium": float(Decimal(item["line_total"]) * 12),
            "currency": order["currency"],
        }
        for line, item in enumerate(order["items"], start=1)
    ]


class PurchasesFeed:
    """Publishes orders' purchases into the running purchases design, if there is one."""

    def __init__(
        self,
        home: Path | None = None,
        engine: Callable[[], MessagingEngine] | None = None,
        ledger: Callable[[], Ledger] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._home = home
        self._open_engine = engine or (lambda: connect(settings.messaging_url()))
        self._open_ledger = ledger or Ledger
        self._lock = threading.Lock()
        self._engine: MessagingEngine | None = None
        self._ledger: Ledger | None = None
        self._publishers: dict[str, Publisher] = {}
        self._clock = clock
        self._looked: tuple[float, str | None] | None = None
        """When the state was last read, and the purchases profile it said runs."""

    def publish(self, order: dict[str, Any]) -> int:
        """Send the order's purchases; how many were sent (0 when purchases does not run, or
        publishing failed -- logged, never raised)."""
        try:
            publisher = self._publisher()
            if publisher is None:
                return 0
            batch = purchases_of(order)
            for start in range(0, len(batch), BATCH):
                publisher.publish(batch[start : start + BATCH])
        except Exception:
            log.exception("order %s: could not publish its purchases", order.get("id"))
            return 0
        return len(batch)

    def _running_profile(self) -> str | None:
        """The purchases profile that runs, if any, as the supervisor's state said at most
        ``STATE_TTL_S`` ago: reading and parsing the state on every checkout cost a twentieth
        of the application tier's time."""
        now = self._clock()
        if self._looked is None or now - self._looked[0] >= STATE_TTL_S:
            state = read_state(self._home or settings.home())
            running = (state or {}).get("systems", {}).get(PURCHASES.name)
            profile = str(running.get("profile") or PURCHASES.default_profile) if running else None
            self._looked = (now, profile)
        return self._looked[1]

    def _publisher(self) -> Publisher | None:
        profile = self._running_profile()
        if profile is None:
            return None
        with self._lock:
            if profile not in self._publishers:
                if self._engine is None:
                    self._engine = self._open_engine()
                if self._ledger is None:
                    self._ledger = self._open_ledger()
                topology = PURCHASES.topology(profile)
                self._publishers[profile] = Publisher(topology, self._engine, self._ledger)
            return self._publishers[profile]
