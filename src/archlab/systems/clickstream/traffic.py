"""Synthetic shoppers for ``archlab clickstream generate``: visits to the storefront as its
tracker would report them, with the shape real traffic has.

Each visit is one session of one visitor (a third of them returning), on one device (phones
most, then desktops, then tablets; the User-Agent a real browser of that kind sends), arriving
from a search engine, social media, a newsletter or directly. It lands on the home page, looks
at one to five products, and falls through the funnel as shops do: some add a product to the
cart, half of those begin checking out, most of those buy. Visits start more often in the
day's busy hours than at night, spread over the days asked for, ending now. The same seed
gives the same traffic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archlab.systems.storefront.products import CURRENCY, PRODUCTS

DEVICES: tuple[tuple[float, str], ...] = (
    (
        0.42,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    ),
    (
        0.18,
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
    ),
    (
        0.25,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
    ),
    (
        0.07,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.2 Safari/605.1.15",
    ),
    (
        0.08,
        "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.2 Mobile/15E148 Safari/604.1",
    ),
)
REFERRERS: tuple[tuple[float, str | None], ...] = (
    (0.38, "https://www.google.com/"),
    (0.30, None),
    (0.12, "https://www.facebook.com/"),
    (0.08, "https://mail.example.com/newsletter"),
    (0.07, "https://www.bing.com/"),
    (0.05, "https://www.reddit.com/r/personalfinance/"),
)
HOURLY = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 8, 8, 8, 8, 9, 10, 10, 9, 6, 4, 2)
"""How many visits start in each hour of the day, relative to the others."""
P_RETURNING, P_ADD, P_CHECKOUT, P_PURCHASE = 0.33, 0.22, 0.5, 0.7
HOUR_MS, DAY_MS = 3_600_000, 86_400_000


@dataclass(frozen=True)
class Visit:
    """One session's events, and the request details the collector would see."""

    ip: str
    user_agent: str
    events: list[dict[str, Any]]


def visits(events: int, days: float, now_ms: int, seed: int = 0) -> Iterator[Visit]:
    """Visits until about ``events`` events, over the ``days`` before ``now_ms``."""
    chance = random.Random(seed)
    span_ms = int(days * DAY_MS)
    visitors: list[str] = []
    made = 0
    while made < events:
        visit = _visit(chance, _start(chance, now_ms, span_ms), visitors)
        visit.events[:] = visit.events[: events - made]
        made += len(visit.events)
        yield visit


def _start(chance: random.Random, now_ms: int, span_ms: int) -> int:
    """A moment in the span, the busy hours more likely; never in the last hour, so that a
    visit's events (minutes long) all lie before now."""
    days_back = chance.randrange(max(1, -(-span_ms // DAY_MS)))
    hour = chance.choices(range(24), HOURLY)[0]
    moment = (now_ms // DAY_MS - days_back) * DAY_MS + hour * HOUR_MS + chance.randrange(HOUR_MS)
    if moment > now_ms - HOUR_MS:
        moment -= DAY_MS  # that hour has not come yet today: the day before
    return max(moment, now_ms - span_ms)


def _visit(chance: random.Random, start_ms: int, visitors: list[str]) -> Visit:
    if visitors and chance.random() < P_RETURNING:
        visitor = chance.choice(visitors)
    else:
        visitor = f"v{chance.getrandbits(64):016x}"
        visitors.append(visitor)
        del visitors[:-10_000]
    session = f"s{chance.getrandbits(64):016x}"
    user_agent = _weighted(chance, DEVICES)
    referrer = _weighted(chance, REFERRERS)
    ip = f"{chance.randrange(1, 224)}.{chance.randrange(256)}.{chance.randrange(256)}.1"
    clock = [start_ms]

    def event(name: str, page: str, **fields: Any) -> dict[str, Any]:
        clock[0] += chance.randrange(2_000, 45_000)
        return {
            "id": f"e{chance.getrandbits(64):016x}",
            "name": name,
            "time": clock[0],
            "session": session,
            "visitor": visitor,
            "page": page,
            **fields,
        }

    happened = [event("page_view", "/", referrer=referrer)]
    cart = []
    for product in chance.sample(PRODUCTS, chance.randint(1, 5)):
        page = f"/products/{product.id}"
        happened.append(event("page_view", page, product=product.id, coverage=product.coverage))
        if chance.random() < P_ADD:
            happened.append(
                event("add_to_cart", page, product=product.id, coverage=product.coverage)
            )
            cart.append(product)
    if cart and chance.random() < P_CHECKOUT:
        happened.append(event("begin_checkout", "/checkout"))
        if chance.random() < P_PURCHASE:
            for product in cart:
                happened.append(
                    event(
                        "purchase",
                        "/checkout",
                        product=product.id,
                        coverage=product.coverage,
                        value=float(product.monthly_premium),
                        currency=CURRENCY,
                    )
                )
    return Visit(ip, user_agent, happened)


def _weighted(chance: random.Random, table: tuple[tuple[float, Any], ...]) -> Any:
    weights, values = zip(*table, strict=True)
    return chance.choices(values, weights)[0]
