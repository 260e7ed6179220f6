"""The API's operations on the database tier and the cache: the catalogue, the session's cart,
checkout (with its idempotency records) and the session's orders, each answered as JSON bytes.

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

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archlab.clock import Clock
from archlab.systems.storefront import bodies
from archlab.systems.storefront.cache import Cache, NoCache
from archlab.systems.storefront.checkout import Checkout, new_order
from archlab.systems.storefront.database import Database, Read, Written
from archlab.systems.storefront.models import Cart, CartItem, CheckoutRequest, Order, Product
from archlab.systems.storefront.problems import FieldError, Problem, not_found
from archlab.systems.storefront.products import CURRENCY

PRODUCT_ID = re.compile(r"[a-z0-9-]{1,64}")
ORDER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PRODUCTS_KEY = "products:list"
PRODUCT_TTL_S = 60.0
SESSION_TTL_S = 300.0
ORDER_TTL_S = 3600.0
ORDERS_PAGE = 20
"""Orders per page of a session's history; the first page is what checkout caches."""
MAX_ORDERS_PAGE = 100


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
    lines = [bodies.line(*row) for row in rows]
    total = sum(row.monthly_premium_cents * row.quantity for row in rows)
    cart = {"items": lines, "total": bodies.money(total), "currency": CURRENCY}
    return Versioned(version, bodies.dumps(cart))


@dataclass(frozen=True)
class PageCursor:
    """Where a page of orders starts: after the order placed at ``created`` with ``order_id``
    (the last of the page before). Carried whole in the cursor, so reading the next page needs
    no lookup and works on a replica that has not yet seen the order the cursor came from."""

    created: datetime
    order_id: str

    def encode(self) -> str:
        text = f"{self.created.isoformat()}|{self.order_id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> PageCursor:
        """The cursor ``next`` gave; a Problem for anything else."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            created, order_id = base64.urlsafe_b64decode(padded).decode().split("|")
            when = datetime.fromisoformat(created)
        except ValueError:
            when, order_id = None, ""
        if when is None or when.tzinfo is None or not ORDER_ID.fullmatch(order_id):
            raise Problem(
                400,
                "invalid-cursor",
                "Invalid page cursor",
                "cursor: not a cursor this API gave; use the next of the page before",
                [FieldError("cursor", "not a cursor this API gave")],
            )
        return cls(when, order_id)


def _orders(
    session: Session,
    session_id: str,
    cursor: PageCursor | None = None,
    limit: int = ORDERS_PAGE,
) -> Versioned:
    """A page of the session's orders, newest first: ``limit`` of them, from ``cursor`` (the
    start without one), and ``next``, the cursor of the page after (None on the last). Keyset
    pagination: a page costs the same however many orders the session has."""
    version = _version(session, session_id)
    query = select(Order).where(Order.session_id == session_id)
    if cursor is not None:
        query = query.where(
            tuple_(Order.created_at, Order.id) < tuple_(cursor.created, cursor.order_id)
        )
    found = session.scalars(
        query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit + 1)
    ).all()
    page = found[:limit]
    last = page[-1] if len(found) > limit else None
    following = None if last is None else PageCursor(bodies.utc(last.created_at), last.id).encode()
    body = {"orders": [bodies.order(order) for order in page], "next": following}
    return Versioned(version, bodies.dumps(body))


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
            return bodies.dumps({"products": [bodies.product(p, detail=False) for p in products]})

        body = self.database.read(load).value
        self.cache.set(PRODUCTS_KEY, body, PRODUCT_TTL_S)
        return body

    def product(self, product_id: str) -> bytes:
        if not PRODUCT_ID.fullmatch(product_id):
            raise not_found("product", product_id)
        key = f"product:{product_id}"
        body = self.cache.get(key)
        if body is not None:
            return body

        def load(session: Session) -> bytes | None:
            product = session.get(Product, product_id)
            return None if product is None else bodies.dumps(bodies.product(product, detail=True))

        found = self.database.read(load).value
        if found is None:
            raise not_found("product", product_id)
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

    def orders(
        self,
        session_id: str,
        after: str | None,
        cursor: str | None = None,
        limit: int = ORDERS_PAGE,
    ) -> bytes:
        """A page of the session's orders (see ``_orders``); only the first page of the
        usual size is cached, the one a checkout replaces."""
        start = None if cursor is None else PageCursor.decode(cursor)

        def load(session: Session) -> Versioned:
            return _orders(session, session_id, start, limit)

        if start is None and limit == ORDERS_PAGE:
            return self._session_read(_orders_key(session_id), load, after)
        return self.database.read(load, after).value.body

    def order(self, session_id: str, order_id: str, after: str | None) -> bytes:
        if not ORDER_ID.fullmatch(order_id):
            raise not_found("order", order_id)
        key = _order_key(session_id, order_id)
        body = self.cache.get(key)
        if body is not None:
            return body

        def load(session: Session) -> bytes | None:
            order = session.get(Order, order_id)
            if order is None or order.session_id != session_id:
                return None
            return bodies.dumps(bodies.order(order))

        found = self.database.read(load, after).value
        if found is None:
            raise not_found("order", order_id)
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
            raise not_found("product", product_id)

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
                    return Placed(bodies.order(placed), created=False)
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
            order = new_order(session_id, checkout, lines, now)
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
                bodies.order(order), True, _cart(session, session_id), _orders(session, session_id)
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
