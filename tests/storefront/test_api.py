"""The application tier's API on SQLite: every endpoint, every error as a problem, idempotent
checkout (also when requests race), carts that are never stale across instances, and a card
number that is stored nowhere."""

from __future__ import annotations

import copy
import logging
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from archlab.clock import ManualClock
from archlab.systems.storefront.api import create_app
from archlab.systems.storefront.cache import NoCache
from archlab.systems.storefront.database import Database
from archlab.systems.storefront.products import PRODUCTS
from tests.storefront.shop import (
    CHECKOUT,
    OTHER_SESSION,
    SESSION,
    AppFactory,
    fill_cart,
    headers,
)

MONEY = re.compile(r"\d+\.\d{2}")
PRODUCT_KEYS = {"id", "name", "coverage", "summary", "monthly_premium", "currency", "features"}
PROBLEM_KEYS = {"type", "title", "status", "detail"}
EMPTY_CART = {"items": [], "total": "0.00", "currency": "USD"}
SESSION_ENDPOINTS = [
    ("GET", "/api/cart", None),
    ("PUT", "/api/cart/items/car-essential", {"quantity": 1}),
    ("DELETE", "/api/cart/items/car-essential", None),
    ("POST", "/api/checkout", CHECKOUT),
    ("GET", "/api/orders", None),
    ("GET", "/api/orders/00000000-0000-0000-0000-000000000000", None),
]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    assert "Traceback" not in response.text
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


def checkout(
    client: TestClient, body: dict[str, Any] | None = None, session: str = SESSION, **more: str
) -> Any:
    return client.post("/api/checkout", json=body or CHECKOUT, headers=headers(session, **more))


def with_changes(**changes: Any) -> dict[str, Any]:
    """CHECKOUT with some fields replaced: ``address__city="x"`` for nested ones."""
    body = copy.deepcopy(CHECKOUT)
    for name, value in changes.items():
        *path, last = name.split("__")
        target = body
        for part in path:
            target = target[part]
        target[last] = value
    return body


# --- health and products ------------------------------------------------------------------------


def test_health_answers_without_the_database(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/never-migrated.db")
    client = TestClient(create_app(database, NoCache(), feed=lambda order: None))
    assert client.get("/health").json() == {"status": "ok"}
    unavailable = client.get("/api/products")  # no tables: the database tier is not ready
    assert problem(unavailable, 503)["title"] == "Database unavailable"
    assert unavailable.headers["retry-after"] == "1"
    database.dispose()


def test_products_list_the_catalogue(client: TestClient) -> None:
    response = client.get("/api/products")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    products = response.json()["products"]
    assert [p["id"] for p in products] == [p.id for p in PRODUCTS]
    for shown, product in zip(products, PRODUCTS, strict=True):
        assert set(shown) == PRODUCT_KEYS
        assert MONEY.fullmatch(shown["monthly_premium"])
        assert shown["monthly_premium"] == str(product.monthly_premium)
        assert shown["features"] == list(product.features) and shown["currency"] == "USD"


def test_a_product_has_its_description(client: TestClient) -> None:
    shown = client.get("/api/products/car-essential").json()
    assert set(shown) == PRODUCT_KEYS | {"description"}
    assert shown["monthly_premium"] == "42.50"
    assert shown["description"] == PRODUCTS[0].description


@pytest.mark.parametrize("product_id", ["no-such-product", "CAR-ESSENTIAL", "a" * 65, "é"])
def test_an_unknown_product_is_a_404_problem(client: TestClient, product_id: str) -> None:
    body = problem(client.get(f"/api/products/{product_id}"), 404)
    assert body["title"] == "No such product"


def test_products_are_served_from_the_cache(client: TestClient, sqlite_url: str) -> None:
    before = client.get("/api/products").content
    detail = client.get("/api/products/car-essential").content
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE products SET name = 'Renamed'"))
    engine.dispose()
    assert client.get("/api/products").content == before
    assert client.get("/api/products/car-essential").content == detail


def test_without_a_cache_products_are_read_every_time(
    make_client: AppFactory, sqlite_url: str
) -> None:
    client = make_client(cache=NoCache())
    client.get("/api/products")
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE products SET name = 'Renamed' WHERE id = 'pet-accident'"))
    engine.dispose()
    assert client.get("/api/products").json()["products"][-2]["name"] == "Renamed"


# --- sessions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), SESSION_ENDPOINTS)
@pytest.mark.parametrize(
    "session", [None, "short", "x" * 65, "has spaces in it!!", "sessión-0123456789"]
)
def test_session_endpoints_need_a_valid_session(
    client: TestClient, method: str, path: str, body: Any, session: str | None
) -> None:
    sent = {} if session is None else {"X-Session-Id": session.encode()}
    found = problem(client.request(method, path, json=body, headers=sent), 400)
    assert fields(found) == {"X-Session-Id"}
    assert "16 to 64" in found["detail"]


def test_a_malformed_read_after_token_is_a_400(client: TestClient) -> None:
    sent = headers(**{"X-Archlab-Read-After": "yesterday"})
    assert fields(problem(client.get("/api/cart", headers=sent), 400)) == {"X-Archlab-Read-After"}
    accepted = headers(**{"X-Archlab-Read-After": "16/B374D848"})  # ignored on SQLite
    assert client.get("/api/cart", headers=accepted).json() == EMPTY_CART


# --- carts ---------------------------------------------------------------------------------------


def test_a_new_session_has_an_empty_cart(client: TestClient) -> None:
    response = client.get("/api/cart", headers=headers())
    assert response.status_code == 200 and response.json() == EMPTY_CART


def test_put_sets_a_quantity_idempotently(client: TestClient) -> None:
    first = client.put("/api/cart/items/home-complete", json={"quantity": 2}, headers=headers())
    again = client.put("/api/cart/items/home-complete", json={"quantity": 2}, headers=headers())
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == client.get("/api/cart", headers=headers()).json()
    assert first.json()["items"] == [
        {
            "product_id": "home-complete",
            "name": "Home Complete",
            "coverage": "home",
            "quantity": 2,
            "monthly_premium": "54.20",
            "line_total": "108.40",
        }
    ]
    assert first.headers["x-archlab-read-after"] == ""  # SQLite: no replica, nothing to wait for


def test_a_cart_lists_lines_in_catalogue_order_with_a_total(client: TestClient) -> None:
    cart = fill_cart(client, {"pet-lifetime": 1, "car-essential": 3, "travel-annual": 10})
    assert [i["product_id"] for i in cart["items"]] == [
        "car-essential",
        "travel-annual",
        "pet-lifetime",
    ]
    assert cart["total"] == "311.10"  # 3 x 42.50 + 10 x 14.50 + 38.60
    updated = fill_cart(client, {"car-essential": 1})
    assert updated["total"] == "226.10"


def test_quantity_zero_and_delete_remove_a_line(client: TestClient) -> None:
    fill_cart(client, {"car-essential": 1, "life-whole": 2})
    assert [i["product_id"] for i in fill_cart(client, {"car-essential": 0})["items"]] == [
        "life-whole"
    ]
    removed = client.delete("/api/cart/items/life-whole", headers=headers())
    assert removed.status_code == 200 and removed.json() == EMPTY_CART
    assert "x-archlab-read-after" in removed.headers
    again = client.delete("/api/cart/items/life-whole", headers=headers())
    assert again.status_code == 200 and again.json() == EMPTY_CART


@pytest.mark.parametrize(
    "body", [{"quantity": -1}, {"quantity": 11}, {"quantity": "2"}, {"quantity": 2.5},
             {"quantity": True}, {}, {"quantity": None}, [1]]
)  # fmt: skip
def test_a_bad_quantity_is_a_422_and_changes_nothing(client: TestClient, body: Any) -> None:
    fill_cart(client, {"car-essential": 1})
    found = problem(client.put("/api/cart/items/car-essential", json=body, headers=headers()), 422)
    assert fields(found) <= {"quantity", "body"} and found["errors"]
    assert client.get("/api/cart", headers=headers()).json()["items"][0]["quantity"] == 1


def test_a_body_that_is_not_json_is_a_422(client: TestClient) -> None:
    sent = {**headers(), "content-type": "application/json"}
    response = client.put("/api/cart/items/car-essential", content=b"{nope", headers=sent)
    assert fields(problem(response, 422)) == {"body"}


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_an_unknown_product_cannot_be_in_a_cart(client: TestClient, method: str) -> None:
    fill_cart(client, {"car-essential": 1})
    response = client.request(
        method, "/api/cart/items/no-such-thing", json={"quantity": 1}, headers=headers()
    )
    assert problem(response, 404)["title"] == "No such product"
    assert len(client.get("/api/cart", headers=headers()).json()["items"]) == 1


def test_carts_belong_to_their_session(client: TestClient) -> None:
    fill_cart(client, {"car-essential": 1})
    assert client.get("/api/cart", headers=headers(OTHER_SESSION)).json() == EMPTY_CART


def test_no_instance_serves_a_stale_cart_after_a_write_through_another(
    make_client: AppFactory,
) -> None:
    """Two instances with their own in-process caches: a write through one is seen by the
    other at once, because carts and order lists are not kept in a per-instance cache."""
    one, two = make_client(), make_client()
    assert two.get("/api/cart", headers=headers()).json() == EMPTY_CART
    fill_cart(one, {"car-essential": 2})
    assert two.get("/api/cart", headers=headers()).json()["items"][0]["quantity"] == 2
    assert two.get("/api/orders", headers=headers()).json() == {"orders": [], "next": None}
    placed = checkout(one).json()["order"]
    assert two.get("/api/cart", headers=headers()).json() == EMPTY_CART
    assert [o["id"] for o in two.get("/api/orders", headers=headers()).json()["orders"]] == [
        placed["id"]
    ]


# --- checkout --------------------------------------------------------------------------------


def test_checkout_turns_the_cart_into_an_order(
    client: TestClient, fed: list[dict[str, Any]]
) -> None:
    fill_cart(client, {"car-comprehensive": 1, "pet-accident": 2})
    response = checkout(client)
    assert response.status_code == 201
    assert "x-archlab-read-after" in response.headers
    order = response.json()["order"]
    assert order["status"] == "confirmed" and order["created"] == "2026-01-01T00:00:00Z"
    assert [(i["product_id"], i["quantity"], i["line_total"]) for i in order["items"]] == [
        ("car-comprehensive", 1, "89.00"),
        ("pet-accident", 2, "24.80"),
    ]
    assert order["total"] == "113.80" and order["currency"] == "USD"
    assert order["customer"] == {"name": "Ann Lee", "email": "ann@example.com"}
    assert order["address"] == {
        "line1": "1 Market St",
        "line2": None,
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94103",
        "country": "US",
    }
    assert order["card"] == {"brand": "visa", "last4": "4242"}
    assert client.get("/api/cart", headers=headers()).json() == EMPTY_CART
    assert client.get("/api/orders", headers=headers()).json() == {"orders": [order], "next": None}
    assert client.get(f"/api/orders/{order['id']}", headers=headers()).json() == order
    assert fed == [order]


def test_an_empty_cart_cannot_be_checked_out(client: TestClient, fed: list[Any]) -> None:
    assert problem(checkout(client), 409)["title"] == "The cart is empty"
    fill_cart(client, {"car-essential": 1, "car-comprehensive": 0})
    checkout(client)
    assert problem(checkout(client), 409)["type"].endswith("/empty-cart")
    assert len(fed) == 1


def test_the_same_idempotency_key_answers_the_same_order(
    client: TestClient, fed: list[dict[str, Any]]
) -> None:
    fill_cart(client, {"life-term-20": 1})
    first = checkout(client, **{"Idempotency-Key": "order-1"})
    fill_cart(client, {"life-whole": 1})  # a new cart; the key still answers the first order
    again = checkout(client, **{"Idempotency-Key": "order-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert "x-archlab-read-after" in again.headers
    orders = client.get("/api/orders", headers=headers()).json()["orders"]
    assert len(orders) == 1 and len(fed) == 1
    assert client.get("/api/cart", headers=headers()).json()["items"][0]["product_id"] == (
        "life-whole"
    )


def test_orders_come_a_page_at_a_time_newest_first(make_client: AppFactory) -> None:
    clock = ManualClock()
    client = make_client(clock=clock)
    placed = []
    for number in range(23):
        fill_cart(client, {"pet-accident": 1})
        placed.append(checkout(client).json()["order"]["id"])
        if number % 2:
            clock.advance(1.5)  # half share a moment with the next: the id breaks the tie
    everything = client.get("/api/orders?limit=100", headers=headers()).json()
    assert everything["next"] is None
    newest_first = [o["id"] for o in everything["orders"]]
    assert sorted(newest_first) == sorted(placed)
    created = [o["created"] for o in everything["orders"]]
    assert created == sorted(created, reverse=True)

    first = client.get("/api/orders", headers=headers()).json()
    assert [o["id"] for o in first["orders"]] == newest_first[:20]
    rest = client.get("/api/orders", params={"cursor": first["next"]}, headers=headers()).json()
    assert [o["id"] for o in rest["orders"]] == newest_first[20:] and rest["next"] is None

    walked, cursor = [], None
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/orders", params=params, headers=headers()).json()
        walked += [o["id"] for o in page["orders"]]
        if (cursor := page["next"]) is None:
            break
    assert walked == newest_first


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=MjAyNi0xMi0wMlQxMDowMDowMHxub3QtYW4taWQ", "cursor"),  # a time, then no id
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
    ],
)
def test_a_bad_page_of_orders_is_a_400_naming_the_parameter(
    client: TestClient, query: str, field: str
) -> None:
    found = problem(client.get(f"/api/orders?{query}", headers=headers()), 400)
    assert fields(found) == {field}


def test_an_idempotency_key_reused_for_other_details_is_a_422(client: TestClient) -> None:
    fill_cart(client, {"life-term-20": 1})
    checkout(client, **{"Idempotency-Key": "order-1"})
    fill_cart(client, {"life-whole": 1})
    other = with_changes(name="Someone Else")
    found = problem(checkout(client, other, **{"Idempotency-Key": "order-1"}), 422)
    assert found["type"].endswith("/idempotency-key-reused")
    assert len(client.get("/api/orders", headers=headers()).json()["orders"]) == 1
    assert len(client.get("/api/cart", headers=headers()).json()["items"]) == 1


def test_idempotency_keys_are_per_session(client: TestClient) -> None:
    fill_cart(client, {"life-term-20": 1})
    fill_cart(client, {"pet-accident": 1}, session=OTHER_SESSION)
    mine = checkout(client, **{"Idempotency-Key": "same"}).json()["order"]
    theirs = checkout(client, session=OTHER_SESSION, **{"Idempotency-Key": "same"})
    assert theirs.status_code == 201 and theirs.json()["order"]["id"] != mine["id"]


@pytest.mark.parametrize("key", ["", "k" * 101, "has space", "naïve"])
def test_a_malformed_idempotency_key_is_a_400(client: TestClient, key: str) -> None:
    fill_cart(client, {"life-term-20": 1})
    sent = {"X-Session-Id": SESSION.encode(), "Idempotency-Key": key.encode()}
    found = problem(client.post("/api/checkout", json=CHECKOUT, headers=sent), 400)
    assert fields(found) == {"Idempotency-Key"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "Ann\x00Lee"}, "name"),
        ({"email": "ann.example.com"}, "email"),
        ({"email": "ann@localhost"}, "email"),
        ({"address__line1": ""}, "address.line1"),
        ({"address__line2": "x" * 201}, "address.line2"),
        ({"address__city": ""}, "address.city"),
        ({"address__region": "California"}, "address.region"),
        ({"address__region": ""}, "address.region"),
        ({"address__postal_code": "9410"}, "address.postal_code"),
        ({"address__country": "USA"}, "address.country"),
        ({"address__country": "XX"}, "address.country"),
        ({"card__number": "4242 4242 4242 4241"}, "card.number"),
        ({"card__number": "4242-4242"}, "card.number"),
        ({"card__expiry": "12/25"}, "card.expiry"),
        ({"card__expiry": "2030-12"}, "card.expiry"),
        ({"card__cvc": "12"}, "card.cvc"),
        ({"address": None}, "address"),
        ({"card__number": 4242424242424242}, "card.number"),
    ],
)
def test_each_bad_field_is_named(client: TestClient, changes: dict[str, Any], field: str) -> None:
    fill_cart(client, {"car-essential": 1})
    found = problem(checkout(client, with_changes(**changes)), 422)
    assert fields(found) == {field}
    assert field in found["detail"]
    assert len(client.get("/api/cart", headers=headers()).json()["items"]) == 1
    assert client.get("/api/orders", headers=headers()).json() == {"orders": [], "next": None}


def test_every_bad_field_is_reported_at_once(client: TestClient) -> None:
    body = {
        "name": "",
        "email": "nope",
        "address": {"line1": "", "city": "", "region": "", "postal_code": "", "country": "ZZ"},
        "card": {"number": "1234", "expiry": "13/99", "cvc": ""},
    }
    found = problem(checkout(client, body), 422)
    assert fields(found) == {
        "name",
        "email",
        "address.line1",
        "address.city",
        "address.region",
        "address.postal_code",
        "address.country",
        "card.number",
        "card.expiry",
        "card.cvc",
    }


def test_addresses_outside_the_us_take_their_own_regions(client: TestClient) -> None:
    fill_cart(client, {"travel-backpacker": 1})
    body = with_changes(
        address__region="Ontario", address__postal_code="K1A 0B1", address__country="ca"
    )
    order = checkout(client, body).json()["order"]
    assert (order["address"]["region"], order["address"]["country"]) == ("Ontario", "CA")


def test_orders_are_newest_first_and_private_to_their_session(make_client: AppFactory) -> None:
    clock = ManualClock()
    client = make_client(clock=clock)
    placed = []
    for product_id in ("car-essential", "home-contents", "pet-lifetime"):
        fill_cart(client, {product_id: 1})
        placed.append(checkout(client).json()["order"]["id"])
        clock.advance(60)
    listed = client.get("/api/orders", headers=headers()).json()["orders"]
    assert [o["id"] for o in listed] == placed[::-1]
    assert client.get("/api/orders", headers=headers(OTHER_SESSION)).json() == {
        "orders": [],
        "next": None,
    }
    elsewhere = client.get(f"/api/orders/{placed[0]}", headers=headers(OTHER_SESSION))
    assert problem(elsewhere, 404)["title"] == "No such order"
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-an-order"):
        problem(client.get(f"/api/orders/{unknown}", headers=headers()), 404)


def _race(make_client: AppFactory, keys: list[str | None]) -> list[Any]:
    """Checkouts of one cart at the same moment, each through its own app instance (its own
    engine and connections, as separate processes would have)."""
    clients = [make_client() for _ in keys]
    fill_cart(clients[0], {"car-essential": 1, "home-complete": 1})
    barrier = threading.Barrier(len(keys))
    answers: list[Any] = [None] * len(keys)

    def run(index: int) -> None:
        extra = {} if keys[index] is None else {"Idempotency-Key": str(keys[index])}
        barrier.wait()
        answers[index] = checkout(clients[index], **extra)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_racing_checkouts_with_one_key_make_one_order(
    make_client: AppFactory, fed: list[Any]
) -> None:
    answers = _race(make_client, ["double-click"] * 4)
    assert Counter(a.status_code for a in answers) == {201: 1, 200: 3}
    assert len({a.json()["order"]["id"] for a in answers}) == 1
    assert len(make_client().get("/api/orders", headers=headers()).json()["orders"]) == 1
    assert len(fed) == 1


def test_racing_checkouts_of_one_cart_make_one_order(make_client: AppFactory) -> None:
    answers = _race(make_client, ["a", "b", None])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 2}


def test_the_card_number_is_stored_and_logged_nowhere(
    client: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    number = "4000 0566 5566 5556"
    fill_cart(client, {"car-essential": 1})
    refused = checkout(client, with_changes(card__number=number, card__expiry="01/20"))
    assert problem(refused, 422) and "5556" not in refused.text
    placed = checkout(client, with_changes(card__number=number, card__cvc="987"))
    assert placed.json()["order"]["card"] == {"brand": "visa", "last4": "5556"}
    digits = number.replace(" ", "")
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("storefront.db*"))
    assert len(stored) > 0
    for form in (digits, number, digits[:12]):
        assert form.encode() not in stored
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert digits not in logged and number not in logged


def test_other_errors_are_problems_without_tracebacks(tmp_path: Path) -> None:
    class Broken(Database):
        def read(self, work: Any, after: str | None = None) -> Any:
            raise RuntimeError("secret internals")

    database = Broken(f"sqlite:///{tmp_path}/s.db")
    client = TestClient(create_app(database, NoCache()), raise_server_exceptions=False)
    response = client.get("/api/products")
    assert problem(response, 500)["title"] == "Internal error"
    assert "secret" not in response.text
    assert problem(client.get("/api/nothing-here"), 404)["title"] == "Not found"
    assert problem(client.post("/api/products"), 405)["title"] == "Method not allowed"
    database.dispose()


def test_database_errors_never_show_customers_details(tmp_path: Path) -> None:
    """Statement parameters stay out of error messages, so out of logs."""
    database = Database(f"sqlite:///{tmp_path}/s.db")  # never migrated: every statement fails

    def write(session: Any) -> None:
        session.execute(text("INSERT INTO orders (customer_email) VALUES (:e)"), {"e": "a@b.c"})

    with pytest.raises(Exception) as failed:
        database.write(write)
    assert "a@b.c" not in str(failed.value)
    database.dispose()
