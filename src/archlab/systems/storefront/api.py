"""The storefront's application tier: its JSON API (FastAPI; OpenAPI at ``/docs``; every error
``application/problem+json``, RFC 9457, with ``errors`` of ``{field, message}`` for bad input).

- ``GET /health`` -- shallow: answers without the database, so a database restart does not make
  the load balancer take every instance out at once.
- ``GET /api/products``, ``GET /api/products/{id}`` -- the catalogue; the hot path.
- ``GET /api/cart``, ``PUT``/``DELETE /api/cart/items/{product_id}`` -- the session's cart.
- ``POST /api/checkout`` -- the cart becomes an order, idempotently with ``Idempotency-Key``.
- ``GET /api/orders``, ``GET /api/orders/{id}`` -- the session's orders, newest first.

Carts, checkout and orders belong to the session in ``X-Session-Id``. Every successful write
answers ``X-Archlab-Read-After``, a token that reads send back so that they see the write even
when a replica serves them (see ``database``).

Caching, cache-aside (see ``cache``):

- Products: in whichever cache is configured, for ``PRODUCT_TTL_S``; nothing here changes them,
  so an instance's own memory is as good as Redis. A hit is the cached bytes as they are.
- Carts and order lists: only in a shared cache (Redis). An in-process cache is per instance:
  after a write through instance A, instance B's memory would still hold the old cart, and a
  stale cart after a write is the one thing this tier must not serve. So with ``memory://``
  they are read from the database every time. With Redis, the write that changes them stores
  the new value (under the cart's version, so a slower reader's older value cannot replace it),
  and a miss is filled only from a primary read: a lagging replica's cart is served, never kept.
- An order: never changes once placed, so it is cached in any cache, under its session.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from archlab.clock import Clock, SystemClock
from archlab.systems.storefront import payments
from archlab.systems.storefront.cache import Cache, NoCache
from archlab.systems.storefront.cache import from_url as cache_from_url
from archlab.systems.storefront.database import TOKEN_PATTERN, Database, Read, Written
from archlab.systems.storefront.models import (
    IDEMPOTENCY_KEY,
    MAX_QUANTITY,
    Cart,
    CartItem,
    CheckoutRequest,
    Order,
    OrderItem,
    Product,
)
from archlab.systems.storefront.products import CURRENCY
from archlab.systems.storefront.purchases_feed import US_STATES, PurchasesFeed

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
READ_AFTER = "X-Archlab-Read-After"
SESSION_HEADER = "X-Session-Id"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
IDEMPOTENCY_PATTERN = rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY}}}$"
PRODUCT_ID = re.compile(r"[a-z0-9-]{1,64}")
ORDER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PRODUCTS_KEY = "products:list"
PRODUCT_TTL_S = 60.0
SESSION_TTL_S = 300.0
ORDER_TTL_S = 3600.0
STATUS = "confirmed"

_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())
"""ISO 3166-1 alpha-2: every officially assigned code."""
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
US_ZIP = re.compile(r"\d{5}(-\d{4})?")
POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{1,15}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- the contract, as OpenAPI documents it ----------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProductOut(_Out):
    id: str
    name: str
    coverage: str
    summary: str
    monthly_premium: str = Field(examples=["42.50"])
    currency: str
    features: list[str]


class ProductDetailOut(ProductOut):
    description: str


class ProductsOut(_Out):
    products: list[ProductOut]


class LineOut(_Out):
    product_id: str
    name: str
    coverage: str
    quantity: int
    monthly_premium: str
    line_total: str


class CartOut(_Out):
    items: list[LineOut]
    total: str
    currency: str


class CustomerOut(_Out):
    name: str
    email: str


class AddressOut(_Out):
    line1: str
    line2: str | None
    city: str
    region: str
    postal_code: str
    country: str


class CardOut(_Out):
    brand: str
    last4: str


class OrderOut(_Out):
    id: str
    created: str = Field(examples=["2026-01-01T12:00:00Z"])
    status: str
    items: list[LineOut]
    total: str
    currency: str
    customer: CustomerOut
    address: AddressOut
    card: CardOut


class OrdersOut(_Out):
    orders: list[OrderOut]


class PlacedOut(_Out):
    order: OrderOut


class QuantityIn(BaseModel):
    model_config = ConfigDict(strict=True)
    quantity: int = Field(ge=0, le=MAX_QUANTITY, description="0 removes the product")


class AddressIn(BaseModel):
    line1: str = Field(max_length=1000)
    line2: str | None = Field(default=None, max_length=1000)
    city: str = Field(max_length=1000)
    region: str = Field(max_length=1000, description="State or province (a US state's code)")
    postal_code: str = Field(max_length=1000)
    country: str = Field(max_length=1000, description="ISO 3166-1 alpha-2, such as US")


class CardIn(BaseModel):
    number: str = Field(max_length=100)
    expiry: str = Field(max_length=100, description="MM/YY or MM/YYYY")
    cvc: str = Field(max_length=100)


class CheckoutIn(BaseModel):
    """The shape; what each field must hold is checked afterwards, all fields at once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ann Lee",
                    "email": "ann@example.com",
                    "address": {
                        "line1": "1 Market St",
                        "city": "San Francisco",
                        "region": "CA",
                        "postal_code": "94103",
                        "country": "US",
                    },
                    "card": {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"},
                }
            ]
        }
    )

    name: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    address: AddressIn
    card: CardIn


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_PROBLEMS = {
    400: "A missing or malformed header or parameter",
    404: "No such product or order",
    409: "The cart is empty",
    422: "Invalid fields",
    503: "The database tier is unavailable: try again",
}


def _documented(ok: int, model: type[BaseModel], *problems: int) -> dict[int | str, Any]:
    documented: dict[int | str, Any] = {ok: {"model": model}}
    for status in (*problems, 503):
        documented[status] = {
            "description": _PROBLEMS[status],
            "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}},
        }
    return documented


# --- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class Problem(Exception):
    """An answer other than success, as RFC 9457 describes it."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        errors: Iterable[FieldError] = (),
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = tuple(errors)


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": f"tag:archlab.dev,2026:storefront/{problem.kind}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in problem.errors]
    return Response(_dumps(body), problem.status, headers, media_type=PROBLEM)


def _not_found(what: str, identifier: str) -> Problem:
    return Problem(404, "not-found", f"No such {what}", f"there is no {what} {identifier!r}")


HEADER_MESSAGES = {
    SESSION_HEADER.lower(): "the session: 16 to 64 characters of A-Z a-z 0-9 _ -",
    READ_AFTER.lower(): "send back exactly what a write answered in this header",
    "idempotency-key": f"1 to {IDEMPOTENCY_KEY} visible ASCII characters",
}


def _invalid_request(error: RequestValidationError) -> Problem:
    """Headers and parameters wrong: 400; a body wrong: 422. Inputs are never echoed back
    (they may hold a card number)."""
    errors, in_body = [], False
    for entry in error.errors():
        location = [str(part) for part in entry.get("loc", ())]
        where, path = (location[0], location[1:]) if location else ("body", [])
        in_body = in_body or where == "body"
        field = ".".join(path) or where
        if entry.get("type") == "json_invalid":
            field = "body"  # not where in the body: the offset is no field
        message = HEADER_MESSAGES.get(field.lower(), str(entry.get("msg", "invalid")))
        errors.append(FieldError(field, message))
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    if in_body:
        return Problem(422, "invalid-body", "Invalid request body", detail, errors)
    return Problem(400, "invalid-request", "Invalid request", detail, errors)


# --- checkout input ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkout:
    """A checkout that passed every check, normalised; the card reduced to brand and last4."""

    name: str
    email: str
    line1: str
    line2: str | None
    city: str
    region: str
    postal_code: str
    country: str
    card_brand: str
    card_last4: str
    fingerprint: str
    """What identifies the request for its Idempotency-Key: a digest of all of it, the card
    as its brand, last four digits and expiry (never the number or the code)."""


def check_checkout(body: CheckoutIn, today: date) -> Checkout:
    """Every field checked and every fault reported at once (a 422 Problem)."""
    errors: list[FieldError] = []

    def text(field: str, value: str | None, label: str, limit: int, required: bool = True) -> str:
        """``value`` stripped; "" (and the fault recorded) when it cannot be used."""
        cleaned = (value or "").strip()
        fault = None
        if not cleaned:
            fault = f"enter {label}" if required else None
        elif len(cleaned) > limit:
            fault = f"{label} is at most {limit} characters"
        elif CONTROL.search(cleaned):
            fault = f"{label} has characters that cannot be printed"
        if fault is None:
            return cleaned
        errors.append(FieldError(field, fault))
        return ""

    def check(field: str, value: str, valid: bool, message: str) -> None:
        if value and not valid:
            errors.append(FieldError(field, message))

    address = body.address
    name = text("name", body.name, "your name", 200)
    email = text("email", body.email, "your e-mail address", 254)
    check("email", email, bool(EMAIL.fullmatch(email)), "an e-mail looks like name@example.com")
    line1 = text("address.line1", address.line1, "the address", 200)
    line2 = text("address.line2", address.line2, "the second address line", 200, False) or None
    city = text("address.city", address.city, "the city", 100)
    country = text("address.country", address.country, "the country", 100).upper()
    check("address.country", country, country in COUNTRIES, "use the country's code, as US")
    region = text("address.region", address.region, "the state or province", 100)
    if country == "US":
        region = region.upper()
        check("address.region", region, region in US_STATES, "use the state's code, as CA")
    postal_code = text("address.postal_code", address.postal_code, "the postal code", 16)
    if country == "US":
        valid, expected = bool(US_ZIP.fullmatch(postal_code)), "a ZIP code, as 94103"
    else:
        valid, expected = bool(POSTAL_CODE.fullmatch(postal_code)), "letters, digits, ' ', '-'"
    check("address.postal_code", postal_code, valid, f"a postal code is {expected}")
    card = payments.check_card(body.card.number, body.card.expiry, body.card.cvc, today)
    errors += [FieldError(f"card.{field}", message) for field, message in card.errors.items()]
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise Problem(422, "invalid-checkout", "Check the highlighted fields", detail, errors)
    described = {
        "name": name,
        "email": email,
        "address": [line1, line2, city, region, postal_code, country],
        "card": [card.brand, card.last4, body.card.expiry.replace(" ", "")],
    }
    return Checkout(
        name,
        email,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        card.brand,
        card.last4,
        hashlib.sha256(_dumps(described)).hexdigest(),
    )


# --- JSON -------------------------------------------------------------------------------------


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _utc(moment: datetime) -> datetime:
    """SQLite gives times back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _product(product: Product, detail: bool) -> dict[str, Any]:
    shown = {
        "id": product.id,
        "name": product.name,
        "coverage": product.coverage,
        "summary": product.summary,
        "monthly_premium": money(product.monthly_premium_cents),
        "currency": product.currency,
        "features": list(product.features),
    }
    if detail:
        shown["description"] = product.description
    return shown


def _line(product_id: str, name: str, coverage: str, quantity: int, cents: int) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "name": name,
        "coverage": coverage,
        "quantity": quantity,
        "monthly_premium": money(cents),
        "line_total": money(cents * quantity),
    }


def _order(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "created": _utc(order.created_at).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "status": order.status,
        "items": [
            _line(i.product_id, i.name, i.coverage, i.quantity, i.monthly_premium_cents)
            for i in order.items
        ],
        "total": money(order.total_cents),
        "currency": order.currency,
        "customer": {"name": order.customer_name, "email": order.customer_email},
        "address": {
            "line1": order.address_line1,
            "line2": order.address_line2,
            "city": order.address_city,
            "region": order.address_region,
            "postal_code": order.address_postal_code,
            "country": order.address_country,
        },
        "card": {"brand": order.card_brand, "last4": order.card_last4},
    }


# --- the store: what each operation reads and writes ------------------------------------------


def _cart_key(session_id: str) -> str:
    return f"cart:{session_id}"


def _orders_key(session_id: str) -> str:
    return f"orders:{session_id}"


def _order_key(session_id: str, order_id: str) -> str:
    return f"order:{session_id}:{order_id}"


@dataclass(frozen=True)
class Versioned:
    """A session's cart or order list, as JSON, and the cart version it reflects."""

    version: int
    body: bytes


@dataclass(frozen=True)
class Placed:
    order: dict[str, Any]
    created: bool
    """False when an earlier request with the same Idempotency-Key had made it."""
    cart: Versioned | None = None
    orders: Versioned | None = None


def _version(session: Session, session_id: str) -> int:
    """Read first, so what is read after is at least as new as the version says."""
    found = session.scalar(select(Cart.version).where(Cart.session_id == session_id))
    return found or 0


def _cart(session: Session, session_id: str) -> Versioned:
    version = _version(session, session_id)
    rows = session.execute(
        select(
            Product.id,
            Product.name,
            Product.coverage,
            CartItem.quantity,
            Product.monthly_premium_cents,
        )
        .join(Product, Product.id == CartItem.product_id)
        .where(CartItem.session_id == session_id)
        .order_by(Product.position)
    ).all()
    lines = [_line(*row) for row in rows]
    total = sum(row.monthly_premium_cents * row.quantity for row in rows)
    cart = {"items": lines, "total": money(total), "currency": CURRENCY}
    return Versioned(version, _dumps(cart))


def _orders(session: Session, session_id: str) -> Versioned:
    version = _version(session, session_id)
    orders = session.scalars(
        select(Order)
        .where(Order.session_id == session_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).all()
    return Versioned(version, _dumps({"orders": [_order(order) for order in orders]}))


def _touch(session: Session, session_id: str, now: datetime) -> None:
    """Create the session's cart row or move its version on; the row stays locked (on
    PostgreSQL) until the transaction ends, which serialises the session's writes."""
    values = {"session_id": session_id, "version": 1, "updated_at": now}
    changes = {"version": Cart.version + 1, "updated_at": now}
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql_insert(Cart).values(values)
        session.execute(pg.on_conflict_do_update(index_elements=[Cart.session_id], set_=changes))
    else:
        lite = sqlite_insert(Cart).values(values)
        session.execute(lite.on_conflict_do_update(index_elements=[Cart.session_id], set_=changes))


class Store:
    """The operations of the API on the database tier and the cache."""

    def __init__(
        self,
        database: Database,
        cache: Cache,
        clock: Clock,
        feed: Callable[[dict[str, Any]], object],
    ) -> None:
        self.database = database
        self.cache = cache
        self.session_cache = cache if cache.shared else NoCache()
        self.clock = clock
        self.feed = feed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def products(self) -> bytes:
        def load(session: Session) -> bytes:
            products = session.scalars(select(Product).order_by(Product.position)).all()
            return _dumps({"products": [_product(p, detail=False) for p in products]})

        body = self.database.read(load).value
        self.cache.set(PRODUCTS_KEY, body, PRODUCT_TTL_S)
        return body

    def product(self, product_id: str) -> bytes:
        if not PRODUCT_ID.fullmatch(product_id):
            raise _not_found("product", product_id)
        key = f"product:{product_id}"
        body = self.cache.get(key)
        if body is not None:
            return body

        def load(session: Session) -> bytes | None:
            product = session.get(Product, product_id)
            return None if product is None else _dumps(_product(product, detail=True))

        found = self.database.read(load).value
        if found is None:
            raise _not_found("product", product_id)
        self.cache.set(key, found, PRODUCT_TTL_S)
        return found

    def _session_read(
        self, key: str, load: Callable[[Session], Versioned], after: str | None
    ) -> bytes:
        body = self.session_cache.get(key)
        if body is not None:
            return body
        read: Read[Versioned] = self.database.read(load, after)
        if read.source == "primary":  # a replica may lag: what it says is served, not kept
            self.session_cache.set(key, read.value.body, SESSION_TTL_S, read.value.version)
        return read.value.body

    def cart(self, session_id: str, after: str | None) -> bytes:
        return self._session_read(
            _cart_key(session_id), lambda session: _cart(session, session_id), after
        )

    def orders(self, session_id: str, after: str | None) -> bytes:
        return self._session_read(
            _orders_key(session_id), lambda session: _orders(session, session_id), after
        )

    def order(self, session_id: str, order_id: str, after: str | None) -> bytes:
        if not ORDER_ID.fullmatch(order_id):
            raise _not_found("order", order_id)
        key = _order_key(session_id, order_id)
        body = self.cache.get(key)
        if body is not None:
            return body

        def load(session: Session) -> bytes | None:
            order = session.get(Order, order_id)
            if order is None or order.session_id != session_id:
                return None
            return _dumps(_order(order))

        found = self.database.read(load, after).value
        if found is None:
            raise _not_found("order", order_id)
        self.cache.set(key, found, ORDER_TTL_S)
        return found

    def set_quantity(self, session_id: str, product_id: str, quantity: int) -> Written[bytes]:
        """The product's quantity in the cart (0: not in it); the same call twice changes
        nothing more."""

        def change(session: Session) -> Versioned:
            self._known_product(session, product_id)
            _touch(session, session_id, self.now())
            item = session.get(CartItem, (session_id, product_id))
            if item is None and quantity:
                session.add(
                    CartItem(session_id=session_id, product_id=product_id, quantity=quantity)
                )
            elif item is not None and quantity:
                item.quantity = quantity
            elif item is not None:
                session.delete(item)
            session.flush()
            return _cart(session, session_id)

        return self._write_cart(session_id, change)

    def _known_product(self, session: Session, product_id: str) -> None:
        if not PRODUCT_ID.fullmatch(product_id) or session.get(Product, product_id) is None:
            raise _not_found("product", product_id)

    def _write_cart(
        self, session_id: str, change: Callable[[Session], Versioned]
    ) -> Written[bytes]:
        written = self.database.write(change)
        cart = written.value
        self.session_cache.set(_cart_key(session_id), cart.body, SESSION_TTL_S, cart.version)
        return Written(cart.body, written.token)

    def checkout(self, session_id: str, key: str | None, checkout: Checkout) -> Written[Placed]:
        """Place the order for the session's cart and empty the cart, in one transaction.

        With ``key``, a request again with the same key and the same details answers the
        order it made; with other details, a 422. The cart row is locked first, so of two
        racing requests the second sees the first's record once it commits; the record's
        primary key makes a second order impossible even so (the loser is answered like a
        repeat)."""

        def place(session: Session) -> Placed:
            cart = session.scalars(
                select(Cart).where(Cart.session_id == session_id).with_for_update()
            ).one_or_none()
            if key is not None:
                record = session.get(CheckoutRequest, (session_id, key))
                if record is not None:
                    if record.fingerprint != checkout.fingerprint:
                        raise Problem(
                            422,
                            "idempotency-key-reused",
                            "Idempotency-Key already used",
                            "this Idempotency-Key placed an order with other details:"
                            " use a new key for a new order",
                        )
                    placed = session.get(Order, record.order_id)
                    assert placed is not None  # the foreign key
                    return Placed(_order(placed), created=False)
            lines = session.execute(
                select(CartItem.quantity, Product)
                .join(Product, Product.id == CartItem.product_id)
                .where(CartItem.session_id == session_id)
                .order_by(Product.position)
            ).all()
            if cart is None or not lines:
                raise Problem(
                    409, "empty-cart", "The cart is empty", "add a policy before checking out"
                )
            now = self.now()
            order = Order(
                id=str(uuid.uuid4()),
                session_id=session_id,
                created_at=now,
                status=STATUS,
                customer_name=checkout.name,
                customer_email=checkout.email,
                address_line1=checkout.line1,
                address_line2=checkout.line2,
                address_city=checkout.city,
                address_region=checkout.region,
                address_postal_code=checkout.postal_code,
                address_country=checkout.country,
                card_brand=checkout.card_brand,
                card_last4=checkout.card_last4,
                total_cents=sum(p.monthly_premium_cents * quantity for quantity, p in lines),
                currency=CURRENCY,
                items=[
                    OrderItem(
                        line=line,
                        product_id=product.id,
                        name=product.name,
                        coverage=product.coverage,
                        quantity=quantity,
                        monthly_premium_cents=product.monthly_premium_cents,
                        line_total_cents=product.monthly_premium_cents * quantity,
                    )
                    for line, (quantity, product) in enumerate(lines, start=1)
                ],
            )
            session.add(order)
            session.execute(delete(CartItem).where(CartItem.session_id == session_id))
            cart.version += 1
            cart.updated_at = now
            if key is not None:
                session.add(
                    CheckoutRequest(
                        session_id=session_id,
                        idempotency_key=key,
                        fingerprint=checkout.fingerprint,
                        order_id=order.id,
                        created_at=now,
                    )
                )
            session.flush()
            return Placed(
                _order(order), True, _cart(session, session_id), _orders(session, session_id)
            )

        try:
            written = self.database.write(place)
        except IntegrityError:
            if key is None:
                raise
            written = self.database.write(place)  # the winner's record is there: a repeat
        placed = written.value
        if placed.cart is not None and placed.orders is not None:
            cart, orders = placed.cart, placed.orders
            self.session_cache.set(_cart_key(session_id), cart.body, SESSION_TTL_S, cart.version)
            self.session_cache.set(
                _orders_key(session_id), orders.body, SESSION_TTL_S, orders.version
            )
            self.feed(placed.order)
        return written


# --- the app ----------------------------------------------------------------------------------

SessionId = Annotated[
    str,
    Header(
        alias=SESSION_HEADER,
        pattern=SESSION_PATTERN,
        description="The visitor's session: carts and orders are per session.",
    ),
]
ReadAfter = Annotated[
    str,
    Header(
        alias=READ_AFTER,
        pattern=TOKEN_PATTERN,
        description="What the session's last write answered in X-Archlab-Read-After.",
    ),
]
ProductId = Annotated[str, Path(description="A product's id", examples=["car-essential"])]
OrderId = Annotated[str, Path(description="An order's id (a UUID)")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_PATTERN,
        description="The same key again answers the same order instead of placing another.",
    ),
]


def _json(body: bytes, status: int = 200, token: str | None = None) -> Response:
    headers = None if token is None else {READ_AFTER: token}
    return Response(body, status, headers, media_type="application/json")


def create_app(
    database: Database | None = None,
    cache: Cache | None = None,
    *,
    clock: Clock | None = None,
    feed: Callable[[dict[str, Any]], object] | None = None,
) -> FastAPI:
    """The API over ``database`` and ``cache`` (by default, what the environment configures:
    see ``database`` and ``cache``); ``feed`` is called with each new order (by default, the
    purchases system's, see ``purchases_feed``)."""
    owned_database, owned_cache = database is None, cache is None
    chosen_database = database if database is not None else Database.from_environment()
    chosen_cache = cache if cache is not None else cache_from_url()
    store = Store(
        chosen_database, chosen_cache, clock or SystemClock(), feed or PurchasesFeed().publish
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned_database:
            chosen_database.dispose()
        if owned_cache:
            chosen_cache.close()

    app = FastAPI(title="archlab storefront API", version="1", lifespan=lifespan)
    _errors(app)
    _routes(app, store)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's schema without the 422 it documents for every route with parameters: here a
    bad header or path answers 400 and a bad body 422, each documented as a problem."""
    generate = app.openapi

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            generated = generate()
            for operations in generated["paths"].values():
                for operation in operations.values():
                    default = operation["responses"].get("422", {})
                    if "HTTPValidationError" in json.dumps(default):
                        del operation["responses"]["422"]
            for name in ("HTTPValidationError", "ValidationError"):
                generated.get("components", {}).get("schemas", {}).pop(name, None)
        assert app.openapi_schema is not None
        return app.openapi_schema

    return schema


def _errors(app: FastAPI) -> None:
    async def problem(_: Request, error: Exception) -> Response:
        assert isinstance(error, Problem)
        return problem_response(error)

    async def invalid(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return problem_response(_invalid_request(error))

    async def http(_: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "HTTP error")
        found = Problem(error.status_code, "http", title, str(error.detail))
        return problem_response(found, dict(error.headers or {}))

    async def unavailable(_: Request, error: Exception) -> Response:
        log.warning("storefront database unavailable: %s", error)
        found = Problem(
            503, "database-unavailable", "Database unavailable", "the database did not answer"
        )
        return problem_response(found, {"Retry-After": "1"})

    async def failed(_: Request, error: Exception) -> Response:
        log.error("storefront request failed", exc_info=error)
        return problem_response(Problem(500, "internal", "Internal error", "please try again"))

    app.add_exception_handler(Problem, problem)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http)
    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(kind, unavailable)
    app.add_exception_handler(Exception, failed)


def _routes(app: FastAPI, store: Store) -> None:
    cache = store.cache

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Shallow: the process answers. It reads no database, on purpose."""
        return {"status": "ok"}

    @app.get("/api/products", responses=_documented(200, ProductsOut))
    async def products() -> Response:
        """The catalogue. A cache hit is answered without leaving the event loop."""
        body = cache.get(PRODUCTS_KEY)
        if body is None:
            body = await run_in_threadpool(store.products)
        return Response(content=body, media_type="application/json")

    @app.get("/api/products/{product_id}", responses=_documented(200, ProductDetailOut, 404))
    def product(product_id: ProductId) -> Response:
        return _json(store.product(product_id))

    @app.get("/api/cart", responses=_documented(200, CartOut, 400))
    def cart(session_id: SessionId, read_after: ReadAfter = "") -> Response:
        return _json(store.cart(session_id, read_after))

    @app.put("/api/cart/items/{product_id}", responses=_documented(200, CartOut, 400, 404, 422))
    def set_quantity(session_id: SessionId, product_id: ProductId, body: QuantityIn) -> Response:
        """Set how many of the product are in the cart; 0 removes it. Idempotent."""
        written = store.set_quantity(session_id, product_id, body.quantity)
        return _json(written.value, token=written.token)

    @app.delete("/api/cart/items/{product_id}", responses=_documented(200, CartOut, 400, 404))
    def remove(session_id: SessionId, product_id: ProductId) -> Response:
        written = store.set_quantity(session_id, product_id, 0)
        return _json(written.value, token=written.token)

    @app.post(
        "/api/checkout",
        status_code=201,
        responses={
            **_documented(201, PlacedOut, 400, 409, 422),
            200: {"model": PlacedOut, "description": "The order this Idempotency-Key placed"},
        },
    )
    def checkout(
        session_id: SessionId, body: CheckoutIn, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """Place an order for the cart: 201 with the order; with an Idempotency-Key already
        used for the same details, 200 with the order it placed."""
        checked = check_checkout(body, store.now().date())
        written = store.checkout(session_id, idempotency_key, checked)
        placed = written.value
        status = 201 if placed.created else 200
        return _json(_dumps({"order": placed.order}), status, written.token)

    @app.get("/api/orders", responses=_documented(200, OrdersOut, 400))
    def orders(session_id: SessionId, read_after: ReadAfter = "") -> Response:
        """The session's orders, newest first."""
        return _json(store.orders(session_id, read_after))

    @app.get("/api/orders/{order_id}", responses=_documented(200, OrderOut, 400, 404))
    def order(session_id: SessionId, order_id: OrderId, read_after: ReadAfter = "") -> Response:
        return _json(store.order(session_id, order_id, read_after))
