"""The storefront's application tier: its JSON API (FastAPI; OpenAPI at ``/docs``; every error
``application/problem+json``, RFC 9457, with ``errors`` of ``{field, message}`` for bad input).

- ``GET /health`` -- shallow: answers without the database, so a database restart does not make
  the load balancer take every instance out at once.
- ``GET /api/products``, ``GET /api/products/{id}`` -- the catalogue; the hot path.
- ``GET /api/cart``, ``PUT``/``DELETE /api/cart/items/{product_id}`` -- the session's cart.
- ``POST /api/checkout`` -- the cart becomes an order, idempotently with ``Idempotency-Key``.
- ``GET /api/orders`` (a page at a time: ``cursor``, ``limit``), ``GET /api/orders/{id}`` -- the
  session's orders, newest first.

Carts, checkout and orders belong to the session in ``X-Session-Id``. Every successful write
answers ``X-Archlab-Read-After``, a token that reads send back so that they see the write even
when a replica serves them (see ``database``).

This module is the app: its routes, their headers and parameters, the error handlers and the
lifespan. The rest of the tier, beside it:

- ``schemas`` -- the request and response models, as OpenAPI documents them.
- ``checkout`` -- a checkout request checked and normalised, and the order it places.
- ``store`` -- what each operation reads and writes, and what is cached (cache-aside).
- ``bodies`` -- the JSON bodies, serialised once.
- ``problems`` -- the answers other than success.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from archlab.clock import Clock, SystemClock
from archlab.systems.storefront import bodies
from archlab.systems.storefront.cache import Cache
from archlab.systems.storefront.cache import from_url as cache_from_url
from archlab.systems.storefront.checkout import check_checkout
from archlab.systems.storefront.database import TOKEN_PATTERN, Database
from archlab.systems.storefront.models import IDEMPOTENCY_KEY
from archlab.systems.storefront.problems import FieldError, Problem, problem_response
from archlab.systems.storefront.purchases_feed import PurchasesFeed
from archlab.systems.storefront.schemas import (
    CartOut,
    CheckoutIn,
    OrderOut,
    OrdersOut,
    PlacedOut,
    ProductDetailOut,
    ProductsOut,
    QuantityIn,
    documented,
)
from archlab.systems.storefront.store import MAX_ORDERS_PAGE, ORDERS_PAGE, PRODUCTS_KEY, Store

log = logging.getLogger(__name__)

READ_AFTER = "X-Archlab-Read-After"
SESSION_HEADER = "X-Session-Id"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
IDEMPOTENCY_PATTERN = rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY}}}$"

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
PageCursorParameter = Annotated[
    str | None,
    Query(max_length=200, description="The next of the page before; the first page without."),
]
PageLimit = Annotated[int, Query(ge=1, le=MAX_ORDERS_PAGE, description="Orders per page.")]
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

    @app.get("/api/products", responses=documented(200, ProductsOut))
    async def products() -> Response:
        """The catalogue. A cache hit is answered without leaving the event loop."""
        body = cache.get(PRODUCTS_KEY)
        if body is None:
            body = await run_in_threadpool(store.products)
        return Response(content=body, media_type="application/json")

    @app.get("/api/products/{product_id}", responses=documented(200, ProductDetailOut, 404))
    def product(product_id: ProductId) -> Response:
        return _json(store.product(product_id))

    @app.get("/api/cart", responses=documented(200, CartOut, 400))
    def cart(session_id: SessionId, read_after: ReadAfter = "") -> Response:
        return _json(store.cart(session_id, read_after))

    @app.put("/api/cart/items/{product_id}", responses=documented(200, CartOut, 400, 404, 422))
    def set_quantity(session_id: SessionId, product_id: ProductId, body: QuantityIn) -> Response:
        """Set how many of the product are in the cart; 0 removes it. Idempotent."""
        written = store.set_quantity(session_id, product_id, body.quantity)
        return _json(written.value, token=written.token)

    @app.delete("/api/cart/items/{product_id}", responses=documented(200, CartOut, 400, 404))
    def remove(session_id: SessionId, product_id: ProductId) -> Response:
        written = store.set_quantity(session_id, product_id, 0)
        return _json(written.value, token=written.token)

    @app.post(
        "/api/checkout",
        status_code=201,
        responses={
            **documented(201, PlacedOut, 400, 409, 422),
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
        return _json(bodies.dumps({"order": placed.order}), status, written.token)

    @app.get("/api/orders", responses=documented(200, OrdersOut, 400))
    def orders(
        session_id: SessionId,
        read_after: ReadAfter = "",
        cursor: PageCursorParameter = None,
        limit: PageLimit = ORDERS_PAGE,
    ) -> Response:
        """The session's orders, newest first, a page at a time: ``next`` is the ``cursor``
        of the page after (null on the last page)."""
        return _json(store.orders(session_id, read_after, cursor, limit))

    @app.get("/api/orders/{order_id}", responses=documented(200, OrderOut, 400, 404))
    def order(session_id: SessionId, order_id: OrderId, read_after: ReadAfter = "") -> Response:
        return _json(store.order(session_id, order_id, read_after))
