"""The storefront's presentation tier: archlab insurance's web shop, rendered on the server.

Each presentation-tier instance serves this app (``create_web_app``, built by uvicorn in the
instance's process); every page is HTML from a Jinja2 template, built from what the
application tier's JSON API answers (:mod:`.client`, at ``ARCHLAB_STOREFRONT_API_URL``,
normally the internal load balancer). Everything works without JavaScript. This module only
puts the shop together; its parts are:

- :mod:`.forms`: what the forms contain and how their values are read;
- :mod:`.visit`: the visit -- session, read-after and notice cookies, CSRF tokens and the
  shared secret that signs them, the security headers (:class:`~.visit.ShopMiddleware`);
- :mod:`.pages`: the templates and the handlers of the pages and their forms;
- :mod:`.client`: the application tier's API, as the pages call it.

``/health`` answers without calling the API: the balancer asks whether this instance serves,
not whether the tiers behind it do (one failing tier must not empty every target group).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from archlab.systems.storefront.topology import api_url
from archlab.systems.storefront.web.client import ApiProblem, ApiUnavailable, StoreApi
from archlab.systems.storefront.web.pages import STATIC_DIR, Pages, templates
from archlab.systems.storefront.web.visit import CsrfRejected, ShopMiddleware, load_secret

API_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# Idle pooled connections are dropped before the balancer would drop them (it keeps idle
# client connections a few seconds), so a request rarely meets a connection closed under it.
API_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=3)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_web_app(
    api: httpx.AsyncClient | None = None, *, secret: bytes | None = None
) -> Starlette:
    """The shop. ``api`` is the client of the application tier (by default one made here for
    ``ARCHLAB_STOREFRONT_API_URL``, closed at shutdown); ``secret`` signs the forms' CSRF
    tokens (by default :func:`load_secret`: the same for every instance)."""
    owned = api is None
    client = api or httpx.AsyncClient(
        base_url=api_url(),
        timeout=API_TIMEOUT,
        limits=API_LIMITS,
    )
    pages = Pages(StoreApi(client), templates())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned:
                await client.aclose()

    routes = [
        Route("/", pages.home, name="home"),
        Route("/products/{product_id}", pages.product, name="product"),
        Route("/cart", pages.cart, name="cart"),
        Route("/cart/items", pages.add, methods=["POST"], name="add"),
        Route("/cart/items/{product_id}", pages.update, methods=["POST"], name="update"),
        Route("/cart/items/{product_id}/remove", pages.remove, methods=["POST"], name="remove"),
        Route("/checkout", pages.checkout, methods=["GET"], name="checkout"),
        Route("/checkout", pages.place, methods=["POST"], name="place"),
        Route("/orders", pages.orders, name="orders"),
        Route("/orders/{order_id}", pages.order, name="order"),
        Route("/health", health, name="health"),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: pages.on_http_error,
        CsrfRejected: pages.on_csrf,
        ApiUnavailable: pages.on_unavailable,
        ApiProblem: pages.on_problem,
        Exception: pages.on_error,
    }
    return Starlette(
        routes=routes,
        middleware=[Middleware(ShopMiddleware, secret=secret or load_secret())],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
