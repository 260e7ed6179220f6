"""What the storefront's API tests share: a session, a valid checkout, and small helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

SESSION = "session-0123456789"
OTHER_SESSION = "session-abcdefghij"
CARD = "4242 4242 4242 4242"
CHECKOUT: dict[str, Any] = {
    "name": "Ann Lee",
    "email": "ann@example.com",
    "address": {
        "line1": "1 Market St",
        "city": "San Francisco",
        "region": "ca",
        "postal_code": "94103",
        "country": "us",
    },
    "card": {"number": CARD, "expiry": "12/30", "cvc": "123"},
}
"""A valid checkout on the manual clock's date (2026-01-01)."""


def headers(session: str = SESSION, **more: str) -> dict[str, str]:
    return {"X-Session-Id": session, **more}


AppFactory = Callable[..., TestClient]
"""``make_client(cache=..., database=..., clock=...)``: a client of a new app instance."""


def fill_cart(
    client: TestClient, quantities: dict[str, int], session: str = SESSION
) -> dict[str, Any]:
    """Set these quantities; the last answer's cart."""
    cart: dict[str, Any] = {}
    for product_id, quantity in quantities.items():
        response = client.put(
            f"/api/cart/items/{product_id}", json={"quantity": quantity}, headers=headers(session)
        )
        assert response.status_code == 200, response.text
        cart = response.json()
    return cart
