"""Card checks at checkout, before anything is stored.

The storefront takes no payment: it checks that a card could be charged as a payment form
would (the number's length and Luhn check digit, an expiry not past, a security code of the
brand's length) and keeps only the brand and the last four digits. The number itself and the
security code never leave the request: not stored, not logged, not echoed back in errors.

``today`` is a parameter, so expiry rules are tested on chosen dates: a card is valid through
the last day of its expiry month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

MIN_DIGITS = 12
MAX_DIGITS = 19
MAX_YEARS_AHEAD = 20
_SEPARATORS = re.compile(r"[ -]")
_EXPIRY = re.compile(r"^(\d{2})/(\d{2}|\d{4})$")


@dataclass(frozen=True)
class CardCheck:
    brand: str
    """visa, mastercard, amex, discover or other (from the number's prefix)."""
    last4: str
    errors: dict[str, str] = field(default_factory=dict)
    """Field (``number``, ``expiry``, ``cvc``) to what is wrong with it."""

    @property
    def valid(self) -> bool:
        return not self.errors


def luhn_valid(digits: str) -> bool:
    """The Luhn check: every second digit from the right doubled, the sum a multiple of 10."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str:
    """The card network from the leading digits (the issuer identification number)."""
    two, four, six = int(digits[:2] or 0), int(digits[:4] or 0), int(digits[:6] or 0)
    if two in (34, 37):
        return "amex"
    if digits.startswith("4"):
        return "visa"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if four == 6011 or 644 <= int(digits[:3] or 0) <= 649 or two == 65 or 622126 <= six <= 622925:
        return "discover"
    return "other"


def expiry_month(text: str) -> tuple[int, int] | None:
    """``MM/YY`` or ``MM/YYYY`` as (year, month), or None when it is neither."""
    match = _EXPIRY.fullmatch(text.replace(" ", ""))
    if match is None:
        return None
    month, year = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        return None
    return (2000 + year if year < 100 else year, month)


def check_card(number: str, expiry: str, cvc: str, today: date) -> CardCheck:
    """Every check on the card, each failure reported against its field."""
    errors: dict[str, str] = {}
    digits = _SEPARATORS.sub("", number)
    brand, last4 = "other", ""
    if not digits:
        errors["number"] = "enter the card number"
    elif not digits.isascii() or not digits.isdigit():
        errors["number"] = "a card number has only digits, spaces and dashes"
    else:
        brand, last4 = brand_of(digits), digits[-4:]
        if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
            errors["number"] = f"a card number has {MIN_DIGITS} to {MAX_DIGITS} digits"
        elif not luhn_valid(digits):
            errors["number"] = "this card number is not valid: check the digits"
    month = expiry_month(expiry)
    if month is None:
        errors["expiry"] = "give the expiry date as MM/YY (month 01 to 12)"
    elif month < (today.year, today.month):
        errors["expiry"] = f"this card expired at the end of {month[1]:02d}/{month[0]}"
    elif month[0] > today.year + MAX_YEARS_AHEAD:
        errors["expiry"] = f"an expiry date is at most {MAX_YEARS_AHEAD} years ahead"
    length = 4 if brand == "amex" else 3
    code = cvc.strip()
    if not (len(code) == length and code.isascii() and code.isdigit()):
        network = "American Express" if brand == "amex" else "this card"
        errors["cvc"] = f"the security code of {network} is {length} digits"
    return CardCheck(brand, last4 if "number" not in errors else "", errors)
