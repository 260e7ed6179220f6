"""What the shop's forms contain and how their values are read: the coverages a product
belongs to, the countries, the checkout's fields (named as the API names them) and its
idempotency key, a quantity's bounds, and the notices a form leaves for the page it
redirects to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_QUANTITY = 10
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")  # the checkout form's hidden key

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


def coverage_of(key: str) -> Coverage:
    known = {c.key: c for c in COVERAGES}
    return known.get(key) or Coverage(key, f"{key.capitalize()} insurance", "")


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


def parse_quantity(text: str, *, minimum: int) -> int | None:
    if not text.isascii() or not text.isdigit():
        return None
    quantity = int(text)
    return quantity if minimum <= quantity <= MAX_QUANTITY else None


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
