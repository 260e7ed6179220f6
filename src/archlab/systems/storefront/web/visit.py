"""The visit: what a request carries and what the shop sends back around every response.

What a visit carries, in cookies (all ``HttpOnly``, ``SameSite=Lax``, ``Path=/``):

- ``sid``: the session, 32 random URL-safe characters, set on the first visit and sent to the
  API as ``X-Session-Id`` (the cart and the orders are the session's).
- ``rw``: the ``X-Archlab-Read-After`` the visitor's last write answered, sent back on the API
  reads that follow, so a page after a write shows it even when a replica serves the read.
- ``notice``: a one-shot status message ("Added to your cart.") for the page a form redirects
  to, shown once in an ``aria-live`` region. Only codes from :data:`.forms.NOTICES` are
  accepted.

Forms carry a CSRF token derived from the session (HMAC-SHA256 with the shop's secret), checked
on every POST. The secret must be the same on every instance -- a form rendered by one is
often posted to another -- so it comes from ``ARCHLAB_STOREFRONT_SECRET`` or, by default, from
a file under ``ARCHLAB_HOME`` that the first instance creates and the others read.

Every response also gets the security headers (:data:`SECURITY_HEADERS`) and a
``Cache-Control``: static assets are cached for a day, anything else is never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archlab import settings
from archlab.systems.storefront.web.client import HEADER_VALUE, Caller
from archlab.systems.storefront.web.forms import NOTICES

SECRET_ENV = "ARCHLAB_STOREFRONT_SECRET"
SESSION_COOKIE = "sid"
READ_AFTER_COOKIE = "rw"
NOTICE_COOKIE = "notice"
SESSION_MAX_AGE = 30 * 24 * 3600
READ_AFTER_MAX_AGE = 3600  # far beyond any replica lag worth waiting for
NOTICE_MAX_AGE = 60
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what the load balancer accepts
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


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token is the session's."""
    form = await request.form(**FORM_LIMITS)
    token = form.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(token, visit_of(request).csrf):
        raise CsrfRejected()
    return form
