"""The storefront's presentation tier: archlab insurance's web shop, rendered on the server.

Each presentation-tier instance serves this app (``create_web_app``, built by uvicorn in the
instance's process); every page is HTML from a Jinja2 template, built from what the
application tier's JSON API answers (:mod:`.client`, at ``ARCHLAB_STOREFRONT_API_URL``,
normally the internal load balancer). Everything works without JavaScript: links and forms,
each form a POST answered by a redirect to a page (POST-redirect-GET). The one small script
only focuses an error summary and stops a form being sent twice.

What a visit carries, in cookies (all ``HttpOnly``, ``SameSite=Lax``, ``Path=/``):

- ``sid``: the session, 32 random URL-safe characters, set on the first visit and sent to the
  API as ``X-Session-Id`` (the cart and the orders are the session's).
- ``rw``: the ``X-Archlab-Read-After`` the visitor's last write answered, sent back on the API
  reads that follow, so a page after a write shows it even when a replica serves the read.
- ``notice``: a one-shot status message ("Added to your cart.") for the page a form redirects
  to, shown once in an ``aria-live`` region. Only codes from :data:`NOTICES` are accepted.

Forms carry a CSRF token derived from the session (HMAC-SHA256 with the shop's secret), checked
on every POST. The secret must be the same on every instance -- a form rendered by one is
often posted to another -- so it comes from ``ARCHLAB_STOREFRONT_SECRET`` or, by default, from
a file under ``ARCHLAB_HOME`` that the first instance creates and the others read.

The checkout form embeds a fresh idempotency key each time it is rendered, sent as
``Idempotency-Key``: submitting the same form twice, or a retry of the request anywhere between
the browser and the database, orders once. When the checkout's outcome is unknown (the API
failed) the form comes back with the *same* key, so trying again cannot order twice.

``/health`` answers without calling the API: the balancer asks whether this instance serves,
not whether the tiers behind it do (one failing tier must not empty every target group).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archlab import settings
from archlab.systems.storefront.topology import api_url
from archlab.systems.storefront.web.client import (
    HEADER_VALUE,
    ApiError,
    ApiProblem,
    ApiUnavailable,
    Caller,
    Cart,
    FieldError,
    StoreApi,
)

log = logging.getLogger(__name__)

SECRET_ENV = "ARCHLAB_STOREFRONT_SECRET"
INSTANCE_ENV = "ARCHLAB_INSTANCE_ID"
API_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# Idle pooled connections are dropped before the balancer would drop them (it keeps idle
# client connections a few seconds), so a request rarely meets a connection closed under it.
API_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=3)

HERE = Path(__file__).parent
SESSION_COOKIE = "sid"
READ_AFTER_COOKIE = "rw"
NOTICE_COOKIE = "notice"
SESSION_MAX_AGE = 30 * 24 * 3600
READ_AFTER_MAX_AGE = 3600  # far beyond any replica lag worth waiting for
NOTICE_MAX_AGE = 60
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what the load balancer accepts
RESOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_QUANTITY = 10
FORM_LIMITS: dict[str, Any] = {"max_files": 0, "max_fields": 40, "max_part_size": 16 * 1024}

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)
STATIC_CACHE = "public, max-age=86400"  # asset URLs carry their content's hash

NOTICES = {
    "added": "Added to your cart.",
    "limited": f"Added to your cart. {MAX_QUANTITY} is the most of one policy, so you have "
    f"{MAX_QUANTITY}.",
    "updated": "Your cart is updated.",
    "removed": "Removed from your cart.",
    "placed": "Thank you: your order is placed.",
}


@dataclass(frozen=True)
class Coverage:
    key: str
    title: str
    blurb: str


COVERAGES = (
    Coverage("car", "Car insurance", "Cover for your car, from third party to comprehensive."),
    Coverage("home", "Home insurance", "Buildings and contents, for owners and renters."),
    Coverage("life", "Life insurance", "Look after the people who depend on you."),
    Coverage("travel", "Travel insurance", "Single trips and annual cover, wherever you go."),
    Coverage("pet", "Pet insurance", "Vet bills for cats, dogs and rabbits."),
)

COUNTRIES = (
    ("AU", "Australia"),
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("CA", "Canada"),
    ("HR", "Croatia"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("GR", "Greece"),
    ("HU", "Hungary"),
    ("IS", "Iceland"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("LV", "Latvia"),
    ("LI", "Liechtenstein"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("MT", "Malta"),
    ("NL", "Netherlands"),
    ("NZ", "New Zealand"),
    ("NO", "Norway"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("SG", "Singapore"),
    ("SK", "Slovakia"),
    ("SI", "Slovenia"),
    ("ES", "Spain"),
    ("SE", "Sweden"),
    ("CH", "Switzerland"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
)
COUNTRY_NAMES = dict(COUNTRIES)


@dataclass(frozen=True)
class FormField:
    """One checkout field, named as the API names it (``address.postal_code``), so that the
    API's field errors land on the field they are about."""

    name: str
    label: str
    autocomplete: str
    kind: str = "text"  # an <input> type, or "select" (the countries)
    inputmode: str | None = None
    hint: str | None = None
    optional: bool = False
    echo: bool = True  # whether a form shown again keeps what was typed
    size: str = ""  # a CSS class for short fields

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")


FIELDSETS: tuple[tuple[str, tuple[FormField, ...]], ...] = (
    (
        "Your details",
        (
            FormField("name", "Full name", "name"),
            FormField(
                "email",
                "Email address",
                "email",
                kind="email",
                hint="We send your policy documents here.",
            ),
        ),
    ),
    (
        "Address",
        (
            FormField("address.line1", "Address line 1", "address-line1"),
            FormField("address.line2", "Address line 2", "address-line2", optional=True),
            FormField("address.city", "Town or city", "address-level2", size="medium"),
            FormField("address.region", "State, county or region", "address-level1", size="medium"),
            FormField("address.postal_code", "Postal code", "postal-code", size="short"),
            FormField("address.country", "Country", "country", kind="select", size="medium"),
        ),
    ),
    (
        "Payment card",
        (
            FormField(
                "card.number",
                "Card number",
                "cc-number",
                inputmode="numeric",
                hint="The long number on the front of your card.",
                echo=False,
            ),
            FormField(
                "card.expiry",
                "Expiry date",
                "cc-exp",
                inputmode="numeric",
                hint="MM/YY, for example 04/29.",
                size="short",
            ),
            FormField(
                "card.cvc",
                "Security code",
                "cc-csc",
                inputmode="numeric",
                hint="The last 3 digits on the back of your card (4 on the front for Amex).",
                echo=False,
                size="short",
            ),
        ),
    ),
)
CHECKOUT_FIELDS = tuple(f for _, fields in FIELDSETS for f in fields)


# --- the visit: session, cookies, headers ---------------------------------------------------


class CsrfRejected(Exception):
    """A POST without the session's CSRF token."""


@dataclass
class Visit:
    """What the shop knows about the request being served, and the cookies it changes."""

    caller: Caller
    csrf: str
    new_session: bool
    read_after_sent: str | None  # the ``rw`` cookie as it came
    notice: str | None  # the one-shot notice the previous request left
    notice_shown: bool = False
    next_notice: str | None = None

    def take_notice(self) -> str | None:
        """The notice's text for the page being rendered, shown once."""
        if self.notice is None:
            return None
        self.notice_shown = True
        return NOTICES[self.notice]


def csrf_token(secret: bytes, session_id: str) -> str:
    digest = hmac.new(secret, b"csrf\0" + session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def load_secret() -> bytes:
    """The secret every instance shares: ``ARCHLAB_STOREFRONT_SECRET``, or the file
    ``storefront/web-secret`` under ``ARCHLAB_HOME``, created (atomically: written aside,
    then linked into place) by whichever instance starts first."""
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return configured.encode()
    path = settings.home() / "storefront" / "web-secret"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".web-secret.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secrets.token_urlsafe(48).encode())
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # another instance won the race: use its secret
    finally:
        aside.unlink()
    return path.read_bytes()


def set_cookie(name: str, value: str, max_age: int, secure: bool) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


class ShopMiddleware:
    """Around every response: the security headers, and, for pages, the visit -- the session
    read (or created), the cookies the page changed set on the way out."""

    def __init__(self, app: ASGIApp, secret: bytes) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        static = path.startswith("/static/")
        visit = None if static or path == "/health" else self.visit(HTTPConnection(scope))
        if visit is not None:
            scope.setdefault("state", {})["visit"] = visit
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                headers.setdefault("cache-control", STATIC_CACHE if static else "no-store")
                if visit is not None:
                    for cookie in self.cookies(visit, secure):
                        headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def visit(self, connection: HTTPConnection) -> Visit:
        cookies = connection.cookies
        session_id = cookies.get(SESSION_COOKIE, "")
        new = SESSION_ID.fullmatch(session_id) is None
        if new:
            session_id = secrets.token_urlsafe(24)  # 32 characters
        read_after = unquote(cookies.get(READ_AFTER_COOKIE, ""))
        request_id = connection.headers.get("x-request-id")
        notice = cookies.get(NOTICE_COOKIE)
        return Visit(
            caller=Caller(
                session_id,
                read_after if HEADER_VALUE.fullmatch(read_after) else None,
                request_id if request_id and REQUEST_ID.fullmatch(request_id) else None,
            ),
            csrf=csrf_token(self.secret, session_id),
            new_session=new,
            read_after_sent=read_after or None,
            notice=notice if notice in NOTICES else None,
        )

    @staticmethod
    def cookies(visit: Visit, secure: bool) -> list[str]:
        cookies = []
        if visit.new_session:
            cookies.append(
                set_cookie(SESSION_COOKIE, visit.caller.session_id, SESSION_MAX_AGE, secure)
            )
        read_after = visit.caller.read_after
        if read_after is not None and read_after != visit.read_after_sent:
            value = quote(read_after, safe="")
            cookies.append(set_cookie(READ_AFTER_COOKIE, value, READ_AFTER_MAX_AGE, secure))
        if visit.next_notice is not None:
            cookies.append(set_cookie(NOTICE_COOKIE, visit.next_notice, NOTICE_MAX_AGE, secure))
        elif visit.notice_shown:
            cookies.append(set_cookie(NOTICE_COOKIE, "", 0, secure))
        return cookies


def visit_of(request: Request) -> Visit:
    visit: Visit = request.state.visit
    return visit


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
    for path in sorted((HERE / "static").iterdir()):
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

    def __init__(self, api: StoreApi, environment: Environment) -> None:
        self.api = api
        self.environment = environment

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
        html = self.environment.get_template(template).render(
            path=request.url.path,
            csrf=visit.csrf if visit else "",
            notice=visit.take_notice() if visit else None,
            cart_count=cart_count,
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=headers)

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
        orders, count = await asyncio.gather(self.api.orders(caller), self.count(caller))
        return self.render(request, "orders.html", cart_count=count, orders=orders)

    async def order(self, request: Request) -> Response:
        caller = visit_of(request).caller
        order_id = resource_id(request.path_params["order_id"])
        order, count = await asyncio.gather(self.api.order(caller, order_id), self.count(caller))
        return self.render(request, "order.html", cart_count=count, order=order)

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


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token is the session's."""
    form = await request.form(**FORM_LIMITS)
    token = form.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(token, visit_of(request).csrf):
        raise CsrfRejected()
    return form


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


def parse_quantity(text: str, *, minimum: int) -> int | None:
    if not text.isascii() or not text.isdigit():
        return None
    quantity = int(text)
    return quantity if minimum <= quantity <= MAX_QUANTITY else None


def coverage_of(key: str) -> Coverage:
    known = {c.key: c for c in COVERAGES}
    return known.get(key) or Coverage(key, f"{key.capitalize()} insurance", "")


def checkout_details(values: Mapping[str, str]) -> dict[str, Any]:
    """The API's checkout body from the form's fields. The card number loses the spaces and
    dashes people type; an expiry typed as ``0429`` (a numeric keypad has no slash) becomes
    ``04/29``."""
    number = values["card.number"]
    if re.fullmatch(r"[\d -]+", number):
        number = re.sub(r"[ -]", "", number)
    expiry = re.sub(r"\s", "", values["card.expiry"])
    if re.fullmatch(r"\d{4}", expiry):
        expiry = f"{expiry[:2]}/{expiry[2:]}"
    return {
        "name": values["name"],
        "email": values["email"],
        "address": {
            key: values[f"address.{key}"]
            for key in ("line1", "line2", "city", "region", "postal_code", "country")
        },
        "card": {"number": number, "expiry": expiry, "cvc": values["card.cvc"]},
    }


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


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
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
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
