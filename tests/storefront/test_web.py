"""The storefront's presentation tier over an in-memory application tier (``web_fakes``):
pages, the session, forms (POST-redirect-GET, CSRF), checkout's validation and idempotency,
read-your-writes, failures, and the security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from archlab.systems.storefront.web import create_web_app
from archlab.systems.storefront.web.visit import SECRET_ENV, load_secret
from tests.storefront.web_fakes import FakeStoreApi

SECRET = b"test secret"
GOOD_CARD = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "address.line1": "12 Analytical Row",
    "address.line2": "",
    "address.city": "London",
    "address.region": "Greater London",
    "address.postal_code": "N1 9GU",
    "address.country": "GB",
    "card.number": "4242 4242 4242 4242",
    "card.expiry": "0429",
    "card.cvc": "123",
}


class Page(HTMLParser):
    """The parts of an HTML page the tests look at: elements with their attributes, the
    text of each h1, and all the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.h1: list[str] = []
        self.text: list[str] = []
        self._in_h1 = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "h1":
            self._in_h1 = True
            self.h1.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_h1:
            self.h1[-1] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> dict[str, str]:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, found)
        return found[0]

    @property
    def title(self) -> str:
        assert len(self.h1) == 1, self.h1
        return " ".join(self.h1[0].split())

    @property
    def all_text(self) -> str:
        return " ".join("".join(self.text).split())


def page(response: httpx.Response) -> Page:
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


def form_field(response: httpx.Response, name: str) -> str:
    """A hidden field's value (the first, when every form on the page has one)."""
    return page(response).find("input", name=name)[0]["value"]


@pytest.fixture
def fake() -> FakeStoreApi:
    return FakeStoreApi()


@pytest.fixture
def client(fake: FakeStoreApi) -> Iterator[TestClient]:
    app = create_web_app(api=fake.client(), secret=SECRET)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def add(client: TestClient, product_id: str, quantity: int | str = 1) -> httpx.Response:
    csrf = form_field(client.get(f"/products/{product_id}"), "csrf")
    data = {"csrf": csrf, "product_id": product_id, "quantity": str(quantity)}
    return client.post("/cart/items", data=data)


def checkout_form(client: TestClient) -> dict[str, str]:
    response = client.get("/checkout")
    return {
        "csrf": form_field(response, "csrf"),
        "idempotency_key": form_field(response, "idempotency_key"),
    }


# --- pages ---------------------------------------------------------------------------------


def test_home_groups_products_by_coverage_with_monthly_premiums(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    home = page(response)
    assert home.title == "Insurance for what matters"
    sections = [a["id"] for a in home.find("section") if "coverage" in a.get("class", "")]
    assert sections == ["car", "home", "life", "travel", "pet"]
    text = home.all_text
    assert "Comprehensive car cover" in text
    assert "€42.50 per month" in text
    assert home.find("a", href="/products/car-comprehensive")
    # the landmarks, the skip link, the cart count in the header
    for landmark in ("header", "nav", "main", "footer"):
        assert home.find(landmark), landmark
    assert home.one("a", href="#main")["class"] == "skip-link"
    assert home.one("main")["id"] == "main"
    assert re.search(r"Cart 0 policies", text)


def test_product_page_has_features_and_an_add_to_cart_form(client: TestClient) -> None:
    response = client.get("/products/car-comprehensive")
    assert response.status_code == 200
    product = page(response)
    assert product.title == "Comprehensive car cover"
    assert "Courtesy car" in product.all_text
    assert "Everything third-party cover has" in product.all_text
    form = product.one("form", action="/cart/items")
    assert form["method"] == "post"
    quantity = product.one("input", name="quantity")
    assert quantity["min"] == "1" and quantity["max"] == "10"
    assert product.one("label", for_=quantity["id"])
    assert product.one("input", name="product_id")["value"] == "car-comprehensive"


def test_unknown_product_and_unknown_page_are_404_pages(client: TestClient) -> None:
    for path in ("/products/no-such-thing", "/no/such/page", "/products/..%2Fcart"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert page(response).title == "Page not found"


def test_health_is_shallow(client: TestClient, fake: FakeStoreApi) -> None:
    fake.down = True
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert fake.requests == []
    assert "set-cookie" not in response.headers


def test_static_stylesheet_is_served_and_linked(client: TestClient) -> None:
    link = page(client.get("/")).one("link", rel="stylesheet")["href"]
    assert link.startswith("/static/shop.css?v=")
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "max-age" in response.headers["cache-control"]
    assert "@import" not in response.text and "url(http" not in response.text
    script = page(client.get("/")).one("script")["src"]
    assert client.get(script).status_code == 200


# --- the session ---------------------------------------------------------------------------


def test_session_cookie_is_set_once_and_forwarded(client: TestClient, fake: FakeStoreApi) -> None:
    first = client.get("/")
    cookies = first.headers.get_list("set-cookie")
    session = [c for c in cookies if c.startswith("sid=")]
    assert len(session) == 1
    attributes = session[0].split("; ")
    sid = attributes[0].removeprefix("sid=")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", sid)
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= set(attributes)

    second = client.get("/cart")
    assert not any(c.startswith("sid=") for c in second.headers.get_list("set-cookie"))
    assert fake.calls("GET", "/api/cart")
    assert {r.headers["x-session-id"] for r in fake.calls("GET", "/api/cart")} == {sid}


def test_a_malformed_session_cookie_is_replaced(client: TestClient, fake: FakeStoreApi) -> None:
    client.cookies.set("sid", "bad cookie;")
    response = client.get("/cart")
    assert response.status_code == 200
    assert any(c.startswith("sid=") for c in response.headers.get_list("set-cookie"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", fake.requests[-1].headers["x-session-id"])


def test_request_id_is_forwarded(client: TestClient, fake: FakeStoreApi) -> None:
    client.get("/", headers={"X-Request-Id": "req-123"})
    assert {r.headers.get("x-request-id") for r in fake.requests} == {"req-123"}
    fake.requests.clear()
    client.get("/", headers={"X-Request-Id": "not\tvalid"})
    assert all("x-request-id" not in r.headers for r in fake.requests)


# --- the cart ------------------------------------------------------------------------------


def test_add_to_cart_redirects_to_the_cart_which_shows_it(client: TestClient) -> None:
    response = add(client, "car-comprehensive", 2)
    assert response.status_code == 303
    assert response.headers["location"] == "/cart"
    cart = client.get("/cart")
    assert cart.status_code == 200
    view = page(cart)
    assert view.title == "Your cart"
    assert "Comprehensive car cover" in view.all_text
    assert view.one("input", id="qty-car-comprehensive")["value"] == "2"
    assert "€85.00" in view.all_text
    assert "Added to your cart." in view.all_text  # the one-shot notice, in a live region
    assert view.one("div", role="status")["aria-live"] == "polite"
    assert "Cart 2 policies" in view.all_text
    assert "Added to your cart." not in page(client.get("/cart")).all_text  # shown once


def test_adding_again_adds_up_to_ten(client: TestClient, fake: FakeStoreApi) -> None:
    add(client, "pet-lifetime", 4)
    add(client, "pet-lifetime", 3)
    (session,) = fake.carts.values()
    assert session == {"pet-lifetime": 7}
    add(client, "pet-lifetime", 9)
    assert session == {"pet-lifetime": 10}
    assert "10 is the most of one policy" in page(client.get("/cart")).all_text


def test_update_and_remove(client: TestClient, fake: FakeStoreApi) -> None:
    add(client, "car-comprehensive")
    add(client, "home-contents")
    csrf = form_field(client.get("/cart"), "csrf")

    response = client.post("/cart/items/car-comprehensive", data={"csrf": csrf, "quantity": "3"})
    assert response.status_code == 303 and response.headers["location"] == "/cart"
    view = page(client.get("/cart"))
    assert view.one("input", id="qty-car-comprehensive")["value"] == "3"
    assert "Your cart is updated." in view.all_text

    response = client.post("/cart/items/home-contents/remove", data={"csrf": csrf})
    assert response.status_code == 303
    view = page(client.get("/cart"))
    assert "Contents cover" not in view.all_text
    assert "Removed from your cart." in view.all_text

    client.post("/cart/items/car-comprehensive", data={"csrf": csrf, "quantity": "0"})
    view = page(client.get("/cart"))
    assert "Your cart is empty." in view.all_text
    assert list(fake.carts.values()) == [{}]


def test_a_bad_quantity_is_explained_not_sent(client: TestClient, fake: FakeStoreApi) -> None:
    response = add(client, "car-comprehensive", "eleven")
    assert response.status_code == 422
    view = page(response)
    field = view.one("input", name="quantity")
    assert field["aria-invalid"] == "true"
    assert "quantity-error" in field["aria-describedby"].split()
    assert "Enter a whole number from 1 to 10." in view.all_text
    add(client, "car-comprehensive")
    csrf = form_field(client.get("/cart"), "csrf")
    response = client.post("/cart/items/car-comprehensive", data={"csrf": csrf, "quantity": "99"})
    assert response.status_code == 422
    assert "There is a problem" in page(response).all_text
    assert not fake.calls("PUT", "/api/cart/items/car-comprehensive")[1:]


def test_posts_without_the_sessions_csrf_token_are_refused(
    client: TestClient, fake: FakeStoreApi
) -> None:
    csrf = form_field(client.get("/products/car-comprehensive"), "csrf")
    data = {"product_id": "car-comprehensive", "quantity": "1"}
    other = TestClient(create_web_app(api=fake.client(), secret=SECRET))
    other_csrf = form_field(other.get("/products/car-comprehensive"), "csrf")
    assert other_csrf != csrf  # the token is per session
    for token in (None, "", "forged", other_csrf):
        sent = data if token is None else data | {"csrf": token}
        response = client.post("/cart/items", data=sent)
        assert response.status_code == 403, token
        assert page(response).title == "This form could not be accepted"
    for path in ("/checkout", "/cart/items/car-comprehensive/remove"):
        assert client.post(path, data={"csrf": "forged"}).status_code == 403
    assert not fake.calls("PUT") and not fake.calls("POST") and not fake.calls("DELETE")
    assert client.post("/cart/items", data=data | {"csrf": csrf}).status_code == 303


def test_every_instance_shares_the_csrf_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeStoreApi
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    secret = load_secret()
    assert load_secret() == secret and len(secret) >= 48
    assert (tmp_path / "storefront" / "web-secret").stat().st_mode & 0o077 == 0
    one = TestClient(create_web_app(api=fake.client()), follow_redirects=False)
    two = TestClient(create_web_app(api=fake.client()), follow_redirects=False)
    csrf = form_field(one.get("/products/life-term"), "csrf")
    two.cookies = one.cookies  # the balancer sent the form's POST to the other instance
    data = {"csrf": csrf, "product_id": "life-term", "quantity": "1"}
    assert two.post("/cart/items", data=data).status_code == 303
    monkeypatch.setenv(SECRET_ENV, "configured")
    assert load_secret() == b"configured"


# --- read-your-writes ----------------------------------------------------------------------


def test_read_after_round_trip(client: TestClient, fake: FakeStoreApi) -> None:
    client.get("/")
    assert all("x-archlab-read-after" not in r.headers for r in fake.requests)
    response = add(client, "travel-annual")
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("rw=")]
    assert len(cookie) == 1
    position = f"0/{fake.position:X}"
    assert cookie[0].startswith("rw=0%2F")
    fake.requests.clear()
    client.get("/cart")
    (read,) = fake.calls("GET", "/api/cart")
    assert read.headers["x-archlab-read-after"] == position
    fake.requests.clear()
    add(client, "travel-annual")  # reads before the write carry it; the write does not
    assert {r.headers["x-archlab-read-after"] for r in fake.calls("GET")} == {position}
    (write,) = fake.calls("PUT")
    assert "x-archlab-read-after" not in write.headers
    assert client.cookies["rw"] == f"0%2F{fake.position:X}"


def test_a_forged_read_after_cookie_is_not_forwarded(fake: FakeStoreApi) -> None:
    app = create_web_app(api=fake.client(), secret=SECRET)
    TestClient(app, cookies={"rw": "bad%0Avalue"}).get("/cart")
    assert "x-archlab-read-after" not in fake.calls("GET", "/api/cart")[0].headers


# --- checkout ------------------------------------------------------------------------------


def test_checkout_form_is_labelled_and_autocompletes(client: TestClient) -> None:
    add(client, "car-comprehensive")
    response = client.get("/checkout")
    assert response.status_code == 200
    view = page(response)
    assert view.title == "Checkout"
    expected = {
        "name": "name",
        "email": "email",
        "address.line1": "address-line1",
        "address.line2": "address-line2",
        "address.city": "address-level2",
        "address.region": "address-level1",
        "address.postal_code": "postal-code",
        "address.country": "country",
        "card.number": "cc-number",
        "card.expiry": "cc-exp",
        "card.cvc": "cc-csc",
    }
    for name, autocomplete in expected.items():
        (control,) = view.find("input", name=name) or view.find("select", name=name)
        assert control["autocomplete"] == autocomplete, name
        assert view.one("label", for_=control["id"]), name
    for name in ("card.number", "card.expiry", "card.cvc"):
        assert view.one("input", name=name)["inputmode"] == "numeric"
    assert view.one("input", name="email")["type"] == "email"
    assert "Comprehensive car cover" in view.all_text  # the order summary
    key = form_field(response, "idempotency_key")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key)
    assert form_field(client.get("/checkout"), "idempotency_key") != key  # fresh each time


def test_checkout_errors_are_shown_per_field_without_the_card(
    client: TestClient, fake: FakeStoreApi
) -> None:
    add(client, "car-comprehensive")
    form = checkout_form(client)
    typed = GOOD_CARD | {"email": "ada-at-example", "card.number": "4242 4242 4242 4241"}
    response = client.post("/checkout", data=form | typed)
    assert response.status_code == 422
    view = page(response)
    assert view.title == "Checkout"
    summary = view.one("div", role="alert")
    assert summary["class"] == "error-summary" and "autofocus" in summary
    assert view.find("a", href="#f-email") and view.find("a", href="#f-card-number")
    email = view.one("input", name="email")
    assert email["value"] == "ada-at-example"  # kept
    assert email["aria-invalid"] == "true"
    assert "f-email-error" in email["aria-describedby"].split()
    assert view.one("p", id="f-email-error")
    assert "Enter an email address like name@example.com" in view.all_text
    card = view.one("input", name="card.number")
    assert "value" not in card and card["aria-invalid"] == "true"
    assert "value" not in view.one("input", name="card.cvc")
    assert "4242" not in response.text and "123" not in response.text
    assert view.one("input", name="address.city")["value"] == "London"
    assert view.one("option", value="GB").get("selected") == ""
    assert form_field(response, "idempotency_key") != form["idempotency_key"]
    assert fake.all_orders() == []


def test_checkout_places_the_order_once(client: TestClient, fake: FakeStoreApi) -> None:
    add(client, "car-comprehensive", 2)
    form = checkout_form(client) | GOOD_CARD
    response = client.post("/checkout", data=form)
    assert response.status_code == 303
    (order,) = fake.all_orders()
    assert response.headers["location"] == f"/orders/{order['id']}"
    (sent,) = fake.calls("POST", "/api/checkout")
    assert sent.headers["idempotency-key"] == form["idempotency_key"]
    assert b'"number":"4242424242424242"' in sent.content  # spaces dropped
    assert b'"expiry":"04/29"' in sent.content

    confirmation = client.get(response.headers["location"])
    assert confirmation.status_code == 200
    view = page(confirmation)
    assert view.title == f"Order {order['id']}"
    text = view.all_text
    assert "Thank you: your order is placed." in text
    assert "Visa ending 4242" in text and "United Kingdom" in text and "€85.00" in text
    assert "Cart 0 policies" in text

    again = client.post("/checkout", data=form)  # a double submit of the same form
    assert again.status_code == 303
    assert again.headers["location"] == response.headers["location"]
    assert len(fake.all_orders()) == 1
    keys = {r.headers["idempotency-key"] for r in fake.calls("POST", "/api/checkout")}
    assert keys == {form["idempotency_key"]}


def test_checkout_with_an_empty_cart(client: TestClient) -> None:
    response = client.get("/checkout")
    assert response.status_code == 200
    assert "Your cart is empty" in page(response).all_text
    assert not page(response).find("form", action="/checkout")
    add(client, "home-contents")
    form = checkout_form(client)
    csrf_cart = form_field(client.get("/cart"), "csrf")
    client.post("/cart/items/home-contents/remove", data={"csrf": csrf_cart})
    response = client.post("/checkout", data=form | GOOD_CARD)  # emptied in another tab
    assert response.status_code == 409
    view = page(response)
    assert "Your cart is empty, so there is nothing to check out." in view.all_text
    assert view.one("div", role="alert")["class"] == "empty-cart"


def test_checkout_when_the_api_fails_keeps_the_key(client: TestClient, fake: FakeStoreApi) -> None:
    add(client, "car-comprehensive")
    form = checkout_form(client) | GOOD_CARD
    fake.down = True
    response = client.post("/checkout", data=form)
    assert response.status_code == 503
    view = page(response)
    assert "We could not confirm your order" in view.all_text
    assert form_field(response, "idempotency_key") == form["idempotency_key"]
    assert "4242" not in response.text
    fake.down = False
    assert client.post("/checkout", data=form).status_code == 303
    assert len(fake.all_orders()) == 1


# --- orders --------------------------------------------------------------------------------


def test_orders_newest_first(client: TestClient, fake: FakeStoreApi) -> None:
    view = page(client.get("/orders"))
    assert view.title == "Your orders"
    assert "You have no orders yet." in view.all_text
    for product in ("life-term", "pet-lifetime"):
        add(client, product)
        client.post("/checkout", data=checkout_form(client) | GOOD_CARD)
    view = page(client.get("/orders"))
    links = [a["href"] for a in view.find("a") if a.get("href", "").startswith("/orders/")]
    assert links == ["/orders/ord-0002", "/orders/ord-0001"]
    assert "Lifetime pet cover" in view.all_text
    assert client.get("/orders/ord-9999").status_code == 404
    assert page(client.get("/orders/ord-0001")).title == "Order ord-0001"


def test_a_long_history_is_shown_a_page_at_a_time(client: TestClient, fake: FakeStoreApi) -> None:
    fake.orders_per_page = 2
    for product in ("life-term", "pet-lifetime", "travel-annual"):
        add(client, product)
        client.post("/checkout", data=checkout_form(client) | GOOD_CARD)

    def order_links(view: Page) -> list[str]:
        return [a["href"] for a in view.find("a") if a.get("href", "").startswith("/orders/")]

    first = page(client.get("/orders"))
    assert order_links(first) == ["/orders/ord-0003", "/orders/ord-0002"]
    (older,) = [a["href"] for a in first.find("a") if a.get("rel") == "next"]
    second = page(client.get(older))
    assert order_links(second) == ["/orders/ord-0001"]
    assert not [a for a in second.find("a") if a.get("rel") == "next"]
    assert "Newest orders" in second.all_text
    assert client.get("/orders?cursor=not-a-cursor").status_code == 400


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["down", "500", "503"])
def test_api_failure_is_a_friendly_503(
    client: TestClient, fake: FakeStoreApi, failure: str
) -> None:
    if failure == "down":
        fake.down = True
    else:
        fake.fail_status = int(failure)
    for path in ("/", "/products/car-comprehensive", "/cart", "/checkout", "/orders"):
        response = client.get(path)
        assert response.status_code == 503, path
        view = page(response)
        assert view.title == "The shop is having trouble"
        assert "try again" in view.all_text.lower()
        assert "Traceback" not in response.text
        assert response.headers["retry-after"] == "5"


def test_a_failed_post_offers_to_retry_from_the_form_page(
    client: TestClient, fake: FakeStoreApi
) -> None:
    csrf = form_field(client.get("/products/car-comprehensive"), "csrf")
    fake.down = True
    response = client.post(
        "/cart/items",
        data={"csrf": csrf, "product_id": "car-comprehensive", "quantity": "1"},
        headers={"Referer": "http://testserver/products/car-comprehensive"},
    )
    assert response.status_code == 503
    assert page(response).find("a", href="/products/car-comprehensive")


def test_one_lost_connection_is_retried(client: TestClient, fake: FakeStoreApi) -> None:
    fake.fail_next = 1
    response = client.get("/products/car-comprehensive")
    assert response.status_code == 200
    assert len(fake.calls("GET", "/api/products/car-comprehensive")) == 2


def test_a_bug_is_a_500_page_not_a_traceback(fake: FakeStoreApi) -> None:
    fake.products["car-comprehensive"]["features"] = None  # outside the contract: a 503
    client = TestClient(create_web_app(api=fake.client(), secret=SECRET))
    assert client.get("/products/car-comprehensive").status_code == 503

    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug")

    api = httpx.AsyncClient(transport=httpx.MockTransport(broken))
    app = create_web_app(api=api, secret=SECRET)
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/cart")
    assert response.status_code == 500
    assert page(response).title == "Something went wrong"
    assert "RuntimeError" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


# --- security ------------------------------------------------------------------------------


def test_security_headers_everywhere(client: TestClient) -> None:
    add(client, "car-comprehensive")
    link = page(client.get("/")).one("link", rel="stylesheet")["href"]
    for path in ("/", "/cart", "/checkout", "/nope", "/health", link):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        if not path.startswith("/static/"):
            assert response.headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_style_or_handlers(client: TestClient) -> None:
    add(client, "car-comprehensive")
    form = checkout_form(client)
    responses = [client.get(p) for p in ("/", "/products/car-comprehensive", "/cart", "/checkout")]
    responses.append(client.post("/checkout", data=form | {"email": "x"}))
    for response in responses:
        view = page(response)
        assert all(a.get("src") for a in view.find("script"))
        assert not view.find("style")
        for tag, attributes in view.elements:
            assert "style" not in attributes, tag
            assert not [a for a in attributes if a.startswith("on")], tag
        for tag, attributes in view.elements:  # every visible control is labelled
            if tag in ("input", "select") and attributes.get("type") != "hidden":
                assert view.find("label", for_=attributes["id"]), attributes
        assert len(view.h1) == 1


def test_templates_escape_what_the_api_says(client: TestClient, fake: FakeStoreApi) -> None:
    fake.products["car-comprehensive"]["name"] = "<script>alert(1)</script>"
    response = client.get("/")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_own_client_is_made_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHLAB_STOREFRONT_API_URL", "http://127.0.0.1:9")  # nothing listens
    with TestClient(create_web_app(secret=SECRET)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/").status_code == 503
