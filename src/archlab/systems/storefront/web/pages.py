"""The shop's pages: the Jinja2 templates they render, and the handlers of their routes.

Every page is HTML from a template in ``templates/``, built from what the application tier's
JSON API answers (:mod:`.client`). Everything works without JavaScript: links and forms, each
form a POST answered by a redirect to a page (POST-redirect-GET). The one small script only
focuses an error summary and stops a form being sent twice.

The checkout form embeds a fresh idempotency key each time it is rendered, sent as
``Idempotency-Key``: submitting the same form twice, or a retry of the request anywhere between
the browser and the database, orders once. When the checkout's outcome is unknown (the API
failed) the form comes back with the *same* key, so trying again cannot order twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from archlab.systems.storefront.web.client import (
    ApiError,
    ApiProblem,
    ApiUnavailable,
    Caller,
    Cart,
    FieldError,
    StoreApi,
)
from archlab.systems.storefront.web.forms import (
    CHECKOUT_FIELDS,
    COUNTRIES,
    COUNTRY_NAMES,
    COVERAGES,
    FIELDSETS,
    IDEMPOTENCY_KEY,
    MAX_QUANTITY,
    Coverage,
    checkout_details,
    coverage_of,
    parse_quantity,
)
from archlab.systems.storefront.web.tracking import Tracking, content_security_policy
from archlab.systems.storefront.web.visit import (
    SECURITY_HEADERS,
    Visit,
    checked_form,
    visit_of,
)

log = logging.getLogger(__name__)

INSTANCE_ENV = "ARCHLAB_INSTANCE_ID"
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
RESOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

# --- rendering -------------------------------------------------------------------------------

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "AUD": "A$", "CAD": "C$", "JPY": "¥"}


def money(amount: str, currency: str) -> str:
    """``42.50`` in ``EUR`` as ``€42.50``; a currency without a symbol here as ``42.50 CHF``."""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def when(created: str) -> str:
    """An ISO 8601 time as ``2 December 2025, 14:52 UTC`` (as it came, if it does not parse)."""
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return created
    zone = moment.tzname()
    text = f"{moment.day} {moment:%B %Y, %H:%M}"
    return f"{text} {'UTC' if zone in ('UTC', 'UTC+00:00') else zone}" if zone else text


def asset_urls() -> dict[str, str]:
    """Each static file's URL with its content's hash, so a changed file is a new URL."""
    urls = {}
    for path in sorted(STATIC_DIR.iterdir()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        urls[path.name] = f"/static/{path.name}?v={digest}"
    return urls


def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    urls = asset_urls()
    environment.globals.update(
        asset=urls.__getitem__,
        instance=os.environ.get(INSTANCE_ENV) or f"pid {os.getpid()}",
        max_quantity=MAX_QUANTITY,
        countries=COUNTRIES,
        country_name=lambda code: COUNTRY_NAMES.get(code, code),
    )
    environment.filters.update(money=money, when=when)
    return environment


class Pages:
    """The shop's pages and forms, over one API client."""

    def __init__(
        self, api: StoreApi, environment: Environment, tracking: Tracking | None = None
    ) -> None:
        self.api = api
        self.environment = environment
        self.tracking = tracking or Tracking()

    def render(
        self,
        request: Request,
        template: str,
        *,
        status: int = 200,
        cart_count: int | None = None,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        visit: Visit | None = getattr(request.state, "visit", None)
        collector = self.tracking.collector()
        html = self.environment.get_template(template).render(
            path=request.url.path,
            csrf=visit.csrf if visit else "",
            notice=visit.take_notice() if visit else None,
            cart_count=cart_count,
            tracker=f"{collector}/tracker.js" if collector else None,
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=headers)
        if collector:
            response.headers["content-security-policy"] = content_security_policy(collector)
        return response

    async def count(self, caller: Caller) -> int | None:
        """The header's cart count; a page still renders without it."""
        try:
            return (await self.api.cart(caller)).count
        except ApiError:
            return None

    async def cart_or_none(self, caller: Caller) -> Cart | None:
        try:
            return await self.api.cart(caller)
        except ApiError:
            return None

    # --- browsing -------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        caller = visit_of(request).caller
        products, count = await asyncio.gather(self.api.products(caller), self.count(caller))
        known = {coverage.key for coverage in COVERAGES}
        groups = [(c, [p for p in products if p.coverage == c.key]) for c in COVERAGES]
        for other in sorted({p.coverage for p in products} - known):
            coverage = Coverage(other, f"{other.capitalize()} insurance", "")
            groups.append((coverage, [p for p in products if p.coverage == other]))
        groups = [(coverage, items) for coverage, items in groups if items]
        return self.render(request, "home.html", cart_count=count, groups=groups)

    async def product(self, request: Request) -> Response:
        product_id = resource_id(request.path_params["product_id"])
        return await self.product_page(request, product_id)

    async def product_page(
        self,
        request: Request,
        product_id: str,
        *,
        error: str | None = None,
        quantity: str = "1",
    ) -> Response:
        caller = visit_of(request).caller
        product, cart = await asyncio.gather(
            self.api.product(caller, product_id), self.cart_or_none(caller)
        )
        return self.render(
            request,
            "product.html",
            status=422 if error else 200,
            cart_count=cart.count if cart else None,
            product=product,
            coverage=coverage_of(product.coverage),
            in_cart=cart.quantity_of(product.id) if cart else 0,
            error=error,
            quantity=quantity,
        )

    # --- the cart ---------------------------------------------------------------------------

    async def cart(self, request: Request) -> Response:
        cart = await self.api.cart(visit_of(request).caller)
        return self.cart_page(request, cart)

    def cart_page(
        self, request: Request, cart: Cart, *, error: tuple[str, str] | None = None
    ) -> Response:
        return self.render(
            request,
            "cart.html",
            status=422 if error else 200,
            cart_count=cart.count,
            cart=cart,
            error=error,
        )

    async def add(self, request: Request) -> Response:
        form = await checked_form(request)
        visit = visit_of(request)
        product_id = resource_id(str(form.get("product_id", "")))
        text = str(form.get("quantity", "1")).strip()
        quantity = parse_quantity(text, minimum=1)
        if quantity is None:
            message = f"Enter a whole number from 1 to {MAX_QUANTITY}."
            return await self.product_page(request, product_id, error=message, quantity=text)
        cart = await self.api.cart(visit.caller)
        wanted = cart.quantity_of(product_id) + quantity
        await self.api.set_quantity(visit.caller, product_id, min(wanted, MAX_QUANTITY))
        visit.next_notice = "added" if wanted <= MAX_QUANTITY else "limited"
        return redirect("/cart")

    async def update(self, request: Request) -> Response:
        form = await checked_form(request)
        visit = visit_of(request)
        product_id = resource_id(request.path_params["product_id"])
        quantity = parse_quantity(str(form.get("quantity", "")).strip(), minimum=0)
        if quantity is None:
            cart = await self.api.cart(visit.caller)
            message = f"Enter a whole number from 0 to {MAX_QUANTITY} (0 removes it)."
            return self.cart_page(request, cart, error=(product_id, message))
        await self.api.set_quantity(visit.caller, product_id, quantity)
        visit.next_notice = "updated" if quantity else "removed"
        return redirect("/cart")

    async def remove(self, request: Request) -> Response:
        await checked_form(request)
        visit = visit_of(request)
        product_id = resource_id(request.path_params["product_id"])
        await self.api.remove(visit.caller, product_id)
        visit.next_notice = "removed"
        return redirect("/cart")

    # --- checkout ---------------------------------------------------------------------------

    async def checkout(self, request: Request) -> Response:
        cart = await self.api.cart(visit_of(request).caller)
        return self.checkout_page(request, cart)

    def checkout_page(
        self,
        request: Request,
        cart: Cart | None,
        *,
        status: int = 200,
        values: Mapping[str, str] | None = None,
        errors: tuple[FieldError, ...] = (),
        key: str | None = None,
        trouble: bool = False,
        empty: bool = False,
    ) -> Response:
        names = {f.name for f in CHECKOUT_FIELDS}
        by_field: dict[str, str] = {}
        for error in errors:
            if error.field in names:
                by_field.setdefault(error.field, error.message)
        summary: list[tuple[str | None, str]] = [
            (f"#{f.id}", by_field[f.name]) for f in CHECKOUT_FIELDS if f.name in by_field
        ]
        summary += [(None, e.message) for e in errors if e.field not in names]
        shown = {f.name: (values or {}).get(f.name, "") for f in CHECKOUT_FIELDS if f.echo}
        return self.render(
            request,
            "checkout.html",
            status=status,
            headers={"Retry-After": "5"} if trouble else None,
            cart_count=cart.count if cart else None,
            cart=cart,
            empty=empty or (cart is not None and not cart.items),
            fieldsets=FIELDSETS,
            values=shown,
            errors=by_field,
            summary=summary,
            key=key or secrets.token_urlsafe(24),
            trouble=trouble,
            status_code=status,
        )

    async def place(self, request: Request) -> Response:
        form = await checked_form(request)
        visit = visit_of(request)
        values = {f.name: str(form.get(f.name, "")).strip() for f in CHECKOUT_FIELDS}
        key = str(form.get("idempotency_key", ""))
        if not IDEMPOTENCY_KEY.fullmatch(key):
            cart = await self.cart_or_none(visit.caller)
            expired = FieldError("", "This form is out of date. Check your details and try again.")
            return self.checkout_page(request, cart, status=400, values=values, errors=(expired,))
        try:
            order = await self.api.checkout(visit.caller, key, checkout_details(values))
        except ApiUnavailable:
            # The order may or may not be placed: the form keeps its key, so sending it again
            # either places it or answers the one already placed.
            return self.checkout_page(
                request, None, status=503, values=values, key=key, trouble=True
            )
        except ApiProblem as problem:
            if problem.status == 409:
                cart = await self.cart_or_none(visit.caller)
                return self.checkout_page(request, cart, status=409, empty=True)
            if problem.status not in (400, 422):
                raise
            errors = problem.errors or (FieldError("", problem.detail or problem.title),)
            cart = await self.cart_or_none(visit.caller)
            return self.checkout_page(request, cart, status=422, values=values, errors=errors)
        visit.next_notice = "placed"
        return redirect(f"/orders/{quote(order.id, safe='')}")

    # --- orders -----------------------------------------------------------------------------

    async def orders(self, request: Request) -> Response:
        caller = visit_of(request).caller
        cursor = request.query_params.get("cursor") or None
        page, count = await asyncio.gather(self.api.orders(caller, cursor), self.count(caller))
        return self.render(
            request,
            "orders.html",
            cart_count=count,
            orders=page.orders,
            next_cursor=page.next,
            first_page=cursor is None,
        )

    async def order(self, request: Request) -> Response:
        caller = visit_of(request).caller
        order_id = resource_id(request.path_params["order_id"])
        order, count = await asyncio.gather(self.api.order(caller, order_id), self.count(caller))
        placed = getattr(request.state, "visit", None)
        just_placed = placed is not None and placed.notice == "placed"
        return self.render(
            request, "order.html", cart_count=count, order=order, just_placed=just_placed
        )

    # --- failures ---------------------------------------------------------------------------

    def error_page(
        self,
        request: Request,
        status: int,
        title: str,
        message: str,
        *,
        retry: bool = False,
    ) -> Response:
        return self.render(
            request,
            "error.html",
            status=status,
            headers={"Retry-After": "5"} if retry else None,
            status_code=status,
            title=title,
            message=message,
            retry=retry,
            retry_url=retry_url(request),
        )

    def not_found(self, request: Request) -> Response:
        return self.error_page(
            request,
            404,
            "Page not found",
            "We could not find that page. If you typed the address, check it is correct.",
        )

    async def on_http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return self.not_found(request)
        if exc.status_code == 405:
            return self.error_page(
                request, 405, "Not allowed", "This page cannot be used that way."
            )
        return self.error_page(
            request, exc.status_code, "That did not work", "The request could not be handled."
        )

    async def on_csrf(self, request: Request, exc: Exception) -> Response:
        return self.error_page(
            request,
            403,
            "This form could not be accepted",
            "It may have come from an old page or from another site. Go back, reload the page "
            "and try again.",
        )

    async def on_unavailable(self, request: Request, exc: Exception) -> Response:
        log.warning("%s %s: the application tier failed: %s", request.method, request.url, exc)
        return self.error_page(
            request,
            503,
            "The shop is having trouble",
            "We could not reach our systems just now. Please try again in a moment.",
            retry=True,
        )

    async def on_problem(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        if exc.status == 404:
            return self.not_found(request)
        log.warning("%s %s: the application tier refused: %s", request.method, request.url, exc)
        status = exc.status if 400 <= exc.status < 500 else 400
        message = exc.detail or "The request could not be handled."
        return self.error_page(request, status, "That did not work", message)

    async def on_error(self, request: Request, exc: Exception) -> Response:
        """The last resort (outside the middleware, so the headers are set here)."""
        log.exception("%s %s failed", request.method, request.url, exc_info=exc)
        response = self.error_page(
            request,
            500,
            "Something went wrong",
            "Sorry, something went wrong on our side. Please try again.",
        )
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name, value)
        response.headers["cache-control"] = "no-store"
        return response


def retry_url(request: Request) -> str:
    """Where "try again" goes: the page itself, or for a form, the page the form was on."""
    if request.method in ("GET", "HEAD"):
        return urlunsplit(("", "", request.url.path, request.url.query, ""))
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return urlunsplit(("", "", referer.path, referer.query, ""))
    return "/"


def resource_id(value: str) -> str:
    """A product's or an order's id from the URL or a form: anything else is not found."""
    if not RESOURCE_ID.fullmatch(value):
        raise HTTPException(404)
    return value


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)
