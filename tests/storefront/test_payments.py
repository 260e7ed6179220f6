"""Card checks: Luhn, brands from prefixes, lengths, expiry through the end of its month, the
security code's length per brand, and every fault reported against its field."""

from __future__ import annotations

from datetime import date

import pytest

from archlab.systems.storefront.payments import brand_of, check_card, expiry_month, luhn_valid

TODAY = date(2026, 3, 31)  # the last day of March: March cards are still good today


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("4000056655665556", "visa"),
        ("4222222222222", "visa"),  # 13 digits
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),  # the 2-series
        ("378282246310005", "amex"),
        ("371449635398431", "amex"),
        ("6011111111111117", "discover"),
        ("6445644564456445", "discover"),
        ("6221260000000000", "discover"),
        ("3056930009020004", "other"),  # Diners Club
        ("6200000000000005", "other"),  # UnionPay outside Discover's range
    ],
)
def test_valid_numbers_and_their_brands(number: str, brand: str) -> None:
    assert luhn_valid(number)
    assert brand_of(number) == brand
    cvc = "1234" if brand == "amex" else "123"
    checked = check_card(number, "04/26", cvc, TODAY)
    assert checked.valid, checked.errors
    assert (checked.brand, checked.last4) == (brand, number[-4:])


@pytest.mark.parametrize(
    ("prefix", "brand"),
    [("2220", "other"), ("2221", "mastercard"), ("2720", "mastercard"), ("2721", "other"),
     ("50", "other"), ("56", "other"), ("643", "other"), ("649", "discover"), ("622125", "other"),
     ("622925", "discover"), ("622926", "other"), ("34", "amex"), ("35", "other")],
)  # fmt: skip
def test_brand_range_edges(prefix: str, brand: str) -> None:
    assert brand_of(prefix + "0" * (16 - len(prefix))) == brand


def test_luhn_catches_one_wrong_digit_and_swapped_neighbours() -> None:
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("4242424242424224")
    assert luhn_valid("0") and not luhn_valid("1")


def test_spaces_and_dashes_are_ignored() -> None:
    for number in ("4242 4242 4242 4242", "4242-4242-4242-4242", " 4242424242424242 "):
        assert check_card(number, "12/30", "123", TODAY).valid


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "enter the card number"),
        ("4242 4242 4242 424x", "only digits"),
        ("4242.4242.4242.4242", "only digits"),
        ("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "only digits"),  # Arabic-Indic digits are digits, not card digits
        ("42424242426", "12 to 19"),
        ("4" + "0" * 19, "12 to 19"),
        ("4242424242424241", "not valid"),
    ],
)
def test_bad_numbers(number: str, message: str) -> None:
    checked = check_card(number, "12/30", "123", TODAY)
    assert set(checked.errors) == {"number"}
    assert message in checked.errors["number"]
    assert checked.last4 == ""  # nothing of a bad number is kept


@pytest.mark.parametrize(
    ("expiry", "valid"),
    [
        ("03/26", True),  # valid through the end of its month: today is its last day
        ("03/2026", True),
        ("02/26", False),
        ("12/25", False),
        ("04/26", True),
        ("12/46", True),
        ("01/47", False),  # more than twenty years ahead
        ("13/26", False),
        ("00/26", False),
        ("3/26", False),
        ("0326", False),
        ("03/026", False),
        ("", False),
        (" 03 / 26 ", True),
    ],
)
def test_expiry(expiry: str, valid: bool) -> None:
    checked = check_card("4242424242424242", expiry, "123", TODAY)
    assert checked.valid is valid, checked.errors
    if not valid:
        assert set(checked.errors) == {"expiry"}


def test_a_card_expires_when_its_month_is_over() -> None:
    assert check_card("4242424242424242", "03/26", "123", date(2026, 3, 31)).valid
    assert not check_card("4242424242424242", "03/26", "123", date(2026, 4, 1)).valid
    assert (
        "end of 03/2026"
        in check_card("4242424242424242", "03/26", "1", date(2026, 4, 1)).errors["expiry"]
    )


def test_expiry_months_parse() -> None:
    assert expiry_month("07/29") == (2029, 7)
    assert expiry_month("07/2029") == (2029, 7)
    assert expiry_month("7/29") is None


@pytest.mark.parametrize(
    ("number", "cvc", "valid"),
    [
        ("4242424242424242", "123", True),
        ("4242424242424242", "1234", False),
        ("4242424242424242", "12a", False),
        ("4242424242424242", "", False),
        ("378282246310005", "1234", True),
        ("378282246310005", "123", False),
        ("378282246310004", "1234", True),  # a bad amex number still wants four digits
    ],
)
def test_security_code_length_by_brand(number: str, cvc: str, valid: bool) -> None:
    assert ("cvc" not in check_card(number, "12/30", cvc, TODAY).errors) is valid


def test_every_fault_at_once() -> None:
    checked = check_card("1234", "13/99", "", TODAY)
    assert set(checked.errors) == {"number", "expiry", "cvc"}
    assert not checked.valid
