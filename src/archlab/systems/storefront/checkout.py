"""A checkout request checked and normalised -- every field, every fault reported at once, the
card reduced to its brand and last four digits -- and the order it places built from the
cart's lines."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from archlab.systems.storefront import bodies, payments
from archlab.systems.storefront.models import Order, OrderItem, Product
from archlab.systems.storefront.problems import FieldError, Problem
from archlab.systems.storefront.products import CURRENCY
from archlab.systems.storefront.purchases_feed import US_STATES
from archlab.systems.storefront.schemas import CheckoutIn

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
        hashlib.sha256(bodies.dumps(described)).hexdigest(),
    )


def new_order(
    session_id: str, checkout: Checkout, lines: Sequence[tuple[int, Product]], now: datetime
) -> Order:
    """The order for the cart's ``lines`` (quantity and product, in the cart's order), each
    line kept as it is sold now."""
    return Order(
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
