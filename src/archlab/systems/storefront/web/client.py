"""The presentation tier's client of the application tier: its JSON API, typed, over one
shared ``httpx.AsyncClient``.

What a call carries, whoever makes it (the :class:`Caller`):

- ``X-Session-Id``: the visitor's session (the ``sid`` cookie); carts and orders are per session.
- ``X-Archlab-Read-After`` on reads: what the visitor's last write answered, so that a read
  served by a database replica that has not caught up yet waits for it, or goes to the primary
  (read-your-writes). A write's answer updates the caller, so later reads in the same request
  see it too; the web app keeps it in the ``rw`` cookie for the requests that follow.
- ``X-Request-Id``: the incoming request's, so one id follows a click through every tier.

Failures come in two kinds. :class:`ApiUnavailable`: the tier could not be reached, timed
out, answered 5xx, or answered outside its contract -- the visitor can only try again.
:class:`ApiProblem`: a 4xx ``application/problem+json`` answer (a product not found, field
errors, an empty cart) that a page explains.

Every call the shop makes is safe to repeat -- reads, ``PUT`` of a quantity, ``DELETE``, and a
checkout carrying its ``Idempotency-Key`` -- so a call that fails on the way (a pooled
connection the balancer had closed, an instance killed mid-request) or is answered 502/503/504
is sent once more before the failure counts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

READ_AFTER = "X-Archlab-Read-After"
RETRY_STATUSES = frozenset({502, 503, 504})
ATTEMPTS = 2
# Header values we pass on: printable ASCII without spaces, as a request id or a replication
# position would be; anything else (a cookie a visitor edited) is dropped, not forwarded.
HEADER_VALUE = re.compile(r"[\x21-\x7e]{1,256}")


class ApiError(Exception):
    """The application tier could not give the page what it needed."""


class ApiUnavailable(ApiError):
    """Unreachable, timed out, 5xx, or an answer outside the contract."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ApiProblem(ApiError):
    """A 4xx answer: ``application/problem+json`` with a title, a detail and, for a 422, the
    fields at fault."""

    def __init__(
        self, status: int, title: str, detail: str, errors: tuple[FieldError, ...] = ()
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors


@dataclass
class Caller:
    """Whom a call is made for: the visitor's session, the position their last write
    answered (updated by writes), and the id of the request being served."""

    session_id: str
    read_after: str | None = None
    request_id: str | None = None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Product(_Model):
    id: str
    name: str
    coverage: str
    summary: str = ""
    monthly_premium: str
    currency: str
    features: tuple[str, ...] = ()
    description: str = ""


class CartItem(_Model):
    product_id: str
    name: str
    coverage: str = ""
    quantity: int
    monthly_premium: str
    line_total: str


class Cart(_Model):
    items: tuple[CartItem, ...] = ()
    total: str
    currency: str

    @property
    def count(self) -> int:
        """How many policies: the quantities added up."""
        return sum(item.quantity for item in self.items)

    def quantity_of(self, product_id: str) -> int:
        return next((i.quantity for i in self.items if i.product_id == product_id), 0)


class Customer(_Model):
    name: str
    email: str


class Address(_Model):
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str


class Card(_Model):
    brand: str
    last4: str


class Order(_Model):
    id: str
    created: str
    status: str
    items: tuple[CartItem, ...] = ()
    total: str
    currency: str
    customer: Customer
    address: Address
    card: Card


class _Products(_Model):
    products: tuple[Product, ...]


class OrdersPage(_Model):
    orders: tuple[Order, ...]
    next: str | None
    """The cursor of the page after; None on the last page."""


class _Placed(_Model):
    order: Order


def segment(value: str) -> str:
    """``value`` as one path segment (an id never reaches another route of the API)."""
    return quote(value, safe="")


class StoreApi:
    """The application tier's API, one method per operation the shop uses."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def products(self, caller: Caller) -> tuple[Product, ...]:
        body = await self._call("GET", "/api/products", caller)
        return _parse(_Products, body).products

    async def product(self, caller: Caller, product_id: str) -> Product:
        body = await self._call("GET", f"/api/products/{segment(product_id)}", caller)
        return _parse(Product, body)

    async def cart(self, caller: Caller) -> Cart:
        return _parse(Cart, await self._call("GET", "/api/cart", caller))

    async def set_quantity(self, caller: Caller, product_id: str, quantity: int) -> Cart:
        path = f"/api/cart/items/{segment(product_id)}"
        body = await self._call("PUT", path, caller, json={"quantity": quantity})
        return _parse(Cart, body)

    async def remove(self, caller: Caller, product_id: str) -> Cart:
        body = await self._call("DELETE", f"/api/cart/items/{segment(product_id)}", caller)
        return _parse(Cart, body)

    async def checkout(self, caller: Caller, key: str, details: dict[str, Any]) -> Order:
        """Place the order for the session's cart. ``key`` makes it idempotent: the same key
        again answers the same order, never a second one."""
        body = await self._call(
            "POST", "/api/checkout", caller, json=details, headers={"Idempotency-Key": key}
        )
        return _parse(_Placed, body).order

    async def orders(self, caller: Caller, cursor: str | None = None) -> OrdersPage:
        """A page of the session's orders, newest first: the first, or the one ``cursor``
        (a page's ``next``) starts."""
        path = "/api/orders" if cursor is None else f"/api/orders?cursor={quote(cursor, safe='')}"
        return _parse(OrdersPage, await self._call("GET", path, caller))

    async def order(self, caller: Caller, order_id: str) -> Order:
        body = await self._call("GET", f"/api/orders/{segment(order_id)}", caller)
        return _parse(Order, body)

    async def _call(
        self,
        method: str,
        path: str,
        caller: Caller,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"X-Session-Id": caller.session_id, "Accept": "application/json"}
        if caller.request_id is not None:
            sent["X-Request-Id"] = caller.request_id
        if method == "GET" and caller.read_after is not None:
            sent[READ_AFTER] = caller.read_after
        sent.update(headers or {})
        response = await self._send(method, path, sent, json)
        if response.status_code >= 500:
            raise ApiUnavailable(f"{method} {path}: {response.status_code}")
        if response.status_code >= 400:
            raise _problem(response)
        if method != "GET":
            position = response.headers.get(READ_AFTER)
            if position is not None and HEADER_VALUE.fullmatch(position):
                caller.read_after = position
        try:
            return response.json()
        except ValueError as error:
            raise ApiUnavailable(f"{method} {path}: the answer is not JSON") from error

    async def _send(
        self, method: str, path: str, headers: dict[str, str], json: Any
    ) -> httpx.Response:
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            try:
                response = await self.client.request(method, path, headers=headers, json=json)
            except httpx.TransportError as error:
                # A read that timed out was slow, not lost: waiting as long again helps nobody.
                slow = isinstance(error, httpx.TimeoutException) and not isinstance(
                    error, httpx.ConnectTimeout
                )
                log.warning("%s %s failed (attempt %d): %r", method, path, attempt, error)
                if last or slow:
                    raise ApiUnavailable(f"{method} {path}: {error!r}") from error
                continue
            if response.status_code in RETRY_STATUSES and not last:
                log.warning("%s %s: %d (attempt %d)", method, path, response.status_code, attempt)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover


def _problem(response: httpx.Response) -> ApiProblem:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return ApiProblem(status, response.reason_phrase, "")
    errors: list[FieldError] = []
    for entry in body.get("errors") or ():
        if isinstance(entry, dict) and isinstance(entry.get("message"), str):
            errors.append(FieldError(str(entry.get("field") or ""), entry["message"]))
    title = body.get("title")
    detail = body.get("detail")
    return ApiProblem(
        status,
        title if isinstance(title, str) else response.reason_phrase,
        detail if isinstance(detail, str) else "",
        tuple(errors),
    )


def _parse(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise ApiUnavailable(f"an answer outside the contract: {error}") from error
