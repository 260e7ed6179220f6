"""An in-memory application tier that keeps to the storefront API's contract, for the
presentation tier's tests: mount it in an ``httpx.MockTransport`` and hand the client to
``create_web_app(api=...)``.

It records every request (to check headers), answers writes with ``X-Archlab-Read-After``
(a position that contains a slash, as a PostgreSQL LSN does), honours ``Idempotency-Key`` on
checkout, and can be broken on purpose: ``down`` refuses connections, ``fail_status`` answers
every request with that status, ``fail_next`` fails only the next N requests.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
PROBLEM = "application/problem+json"

PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "id": "car-comprehensive",
        "name": "Comprehensive car cover",
        "coverage": "car",
        "summary": "Your car, other cars and your passengers.",
        "monthly_premium": "42.50",
        "features": ["Courtesy car", "Windscreen repair", "Legal cover"],
        "description": "Everything third-party cover has, and damage to your own car too.",
    },
    {
        "id": "car-third-party",
        "name": "Third-party car cover",
        "coverage": "car",
        "summary": "The cover the law asks for.",
        "monthly_premium": "19.00",
        "features": ["Damage to others' property"],
        "description": "The legal minimum, done well.",
    },
    {
        "id": "home-contents",
        "name": "Contents cover",
        "coverage": "home",
        "summary": "What you own, at home and away.",
        "monthly_premium": "12.25",
        "features": ["Accidental damage", "Items away from home"],
        "description": "For renters and owners.",
    },
    {
        "id": "pet-lifetime",
        "name": "Lifetime pet cover",
        "coverage": "pet",
        "summary": "Vet fees every year of your pet's life.",
        "monthly_premium": "18.90",
        "features": ["Vet fees up to 7,000 a year"],
        "description": "Cats, dogs and rabbits.",
    },
    {
        "id": "life-term",
        "name": "Term life cover",
        "coverage": "life",
        "summary": "A lump sum for the people you leave.",
        "monthly_premium": "9.99",
        "features": ["Terminal illness benefit"],
        "description": "Fixed premiums for the term.",
    },
    {
        "id": "travel-annual",
        "name": "Annual travel cover",
        "coverage": "travel",
        "summary": "Every trip this year.",
        "monthly_premium": "6.40",
        "features": ["Medical expenses", "Cancellation"],
        "description": "Worldwide, up to 31 days a trip.",
    },
)


def problem(status: int, title: str, detail: str = "", **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail} | extra
    return httpx.Response(status, json=body, headers={"content-type": PROBLEM})


def luhn(number: str) -> bool:
    total = 0
    for i, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@dataclass
class FakeStoreApi:
    currency: str = "EUR"
    products: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {p["id"]: copy.deepcopy(p) for p in PRODUCTS}
    )
    carts: dict[str, dict[str, int]] = field(default_factory=dict)
    orders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    placed: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    position: int = 0
    down: bool = False
    fail_status: int | None = None
    fail_next: int = 0
    orders_per_page: int = 20

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.MockTransport(self.handle), base_url="http://api.test"
        )

    # --- what the tests read -----------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == path)
        ]

    def all_orders(self) -> list[dict[str, Any]]:
        return [order for orders in self.orders.values() for order in orders]

    # --- the API ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_next:
            self.fail_next -= 1
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_status is not None:
            return problem(self.fail_status, "Broken on purpose")
        path = request.url.path
        if request.method == "GET" and path == "/api/products":
            return httpx.Response(200, json={"products": [self.product(p) for p in self.products]})
        if match := re.fullmatch(r"/api/products/([^/]+)", path):
            if match[1] not in self.products:
                return problem(404, "Not Found", f"no product {match[1]}")
            return httpx.Response(200, json=self.product(match[1], detail=True))
        session = request.headers.get("x-session-id", "")
        if not SESSION_ID.fullmatch(session):
            return problem(400, "Bad Request", "X-Session-Id is missing or malformed")
        if request.method == "GET" and path == "/api/cart":
            return httpx.Response(200, json=self.cart(session))
        if match := re.fullmatch(r"/api/cart/items/([^/]+)", path):
            return self.change_cart(request, session, match[1])
        if request.method == "POST" and path == "/api/checkout":
            return self.checkout(request, session)
        if request.method == "GET" and path == "/api/orders":
            return self.orders_page(session, request.url.params.get("cursor"))
        if match := re.fullmatch(r"/api/orders/([^/]+)", path):
            for order in self.orders.get(session, []):
                if order["id"] == match[1]:
                    return httpx.Response(200, json=order)
            return problem(404, "Not Found", f"no order {match[1]}")
        return problem(404, "Not Found", path)

    def orders_page(self, session: str, cursor: str | None) -> httpx.Response:
        """Pages of ``orders_per_page``, newest first; the cursor is the offset of the next."""
        newest_first = list(reversed(self.orders.get(session, [])))
        if cursor is not None and not cursor.isdigit():
            return problem(400, "Invalid page cursor", "cursor: not a cursor this API gave")
        start = int(cursor or 0)
        end = start + self.orders_per_page
        following = str(end) if end < len(newest_first) else None
        return httpx.Response(200, json={"orders": newest_first[start:end], "next": following})

    def product(self, product_id: str, detail: bool = False) -> dict[str, Any]:
        product = dict(self.products[product_id]) | {"currency": self.currency}
        if not detail:
            product.pop("description")
        return product

    def cart(self, session: str) -> dict[str, Any]:
        items = []
        total = Decimal("0.00")
        for product_id, quantity in self.carts.get(session, {}).items():
            product = self.products[product_id]
            line = Decimal(product["monthly_premium"]) * quantity
            total += line
            items.append(
                {
                    "product_id": product_id,
                    "name": product["name"],
                    "coverage": product["coverage"],
                    "quantity": quantity,
                    "monthly_premium": product["monthly_premium"],
                    "line_total": f"{line:.2f}",
                }
            )
        return {"items": items, "total": f"{total:.2f}", "currency": self.currency}

    def written(self, status: int, body: Any) -> httpx.Response:
        self.position += 1
        return httpx.Response(
            status, json=body, headers={"X-Archlab-Read-After": f"0/{self.position:X}"}
        )

    def change_cart(self, request: httpx.Request, session: str, product_id: str) -> httpx.Response:
        if product_id not in self.products:
            return problem(404, "Not Found", f"no product {product_id}")
        cart = self.carts.setdefault(session, {})
        if request.method == "DELETE":
            cart.pop(product_id, None)
            return self.written(200, self.cart(session))
        if request.method != "PUT":
            return problem(405, "Method Not Allowed")
        quantity = json.loads(request.content).get("quantity")
        if not isinstance(quantity, int) or not 0 <= quantity <= 10:
            errors = [{"field": "quantity", "message": "must be from 0 to 10"}]
            return problem(422, "Unprocessable Content", "invalid quantity", errors=errors)
        if quantity == 0:
            cart.pop(product_id, None)
        else:
            cart[product_id] = quantity
        return self.written(200, self.cart(session))

    def checkout(self, request: httpx.Request, session: str) -> httpx.Response:
        key = request.headers.get("idempotency-key")
        if not key:
            return problem(400, "Bad Request", "Idempotency-Key is required")
        if key in self.placed:
            owner, order = self.placed[key]
            if owner == session:
                return self.written(200, {"order": order})
        body = json.loads(request.content)
        errors = self.validate(body)
        if errors:
            return problem(422, "Unprocessable Content", "check the fields", errors=errors)
        cart = self.cart(session)
        if not cart["items"]:
            return problem(409, "Conflict", "the cart is empty")
        number = body["card"]["number"]
        brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(number[0], "card")
        order = {
            "id": f"ord-{len(self.all_orders()) + 1:04d}",
            "created": f"2025-12-02T14:{len(self.all_orders()):02d}:00+00:00",
            "status": "confirmed",
            "items": cart["items"],
            "total": cart["total"],
            "currency": cart["currency"],
            "customer": {"name": body["name"], "email": body["email"]},
            "address": body["address"],
            "card": {"brand": brand, "last4": number[-4:]},
        }
        self.orders.setdefault(session, []).append(order)
        self.placed[key] = (session, order)
        self.carts[session] = {}
        return self.written(201, {"order": order})

    @staticmethod
    def validate(body: dict[str, Any]) -> list[dict[str, str]]:
        errors = []

        def fail(name: str, message: str) -> None:
            errors.append({"field": name, "message": message})

        if not body.get("name"):
            fail("name", "Enter your full name")
        if "@" not in body.get("email", ""):
            fail("email", "Enter an email address like name@example.com")
        address = body.get("address", {})
        for key, label in (("line1", "first line of your address"), ("city", "town or city")):
            if not address.get(key):
                fail(f"address.{key}", f"Enter the {label}")
        if not re.fullmatch(r"[A-Za-z0-9 -]{3,10}", address.get("postal_code", "")):
            fail("address.postal_code", "Enter a real postal code")
        if not re.fullmatch(r"[A-Z]{2}", address.get("country", "")):
            fail("address.country", "Choose a country")
        card = body.get("card", {})
        number = card.get("number", "")
        if not (re.fullmatch(r"\d{12,19}", number) and luhn(number)):
            fail("card.number", "Enter a valid card number")
        if not re.fullmatch(r"(0[1-9]|1[0-2])/\d{2}", card.get("expiry", "")):
            fail("card.expiry", "Enter the expiry date as MM/YY")
        if not re.fullmatch(r"\d{3,4}", card.get("cvc", "")):
            fail("card.cvc", "Enter the 3 or 4 digit security code")
        return errors
