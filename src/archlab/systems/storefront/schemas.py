"""The API's contract as OpenAPI documents it: the pydantic models of its request and response
bodies, and the problems each route may answer. Response bodies are built by ``bodies``, not
from these models; the models only describe them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from archlab.systems.storefront.models import MAX_QUANTITY
from archlab.systems.storefront.problems import PROBLEM, PROBLEM_SCHEMA


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProductOut(_Out):
    id: str
    name: str
    coverage: str
    summary: str
    monthly_premium: str = Field(examples=["42.50"])
    currency: str
    features: list[str]


class ProductDetailOut(ProductOut):
    description: str


class ProductsOut(_Out):
    products: list[ProductOut]


class LineOut(_Out):
    product_id: str
    name: str
    coverage: str
    quantity: int
    monthly_premium: str
    line_total: str


class CartOut(_Out):
    items: list[LineOut]
    total: str
    currency: str


class CustomerOut(_Out):
    name: str
    email: str


class AddressOut(_Out):
    line1: str
    line2: str | None
    city: str
    region: str
    postal_code: str
    country: str


class CardOut(_Out):
    brand: str
    last4: str


class OrderOut(_Out):
    id: str
    created: str = Field(examples=["2026-01-01T12:00:00Z"])
    status: str
    items: list[LineOut]
    total: str
    currency: str
    customer: CustomerOut
    address: AddressOut
    card: CardOut


class OrdersOut(_Out):
    orders: list[OrderOut]
    next: str | None = Field(description="The cursor of the page after; null on the last page.")


class PlacedOut(_Out):
    order: OrderOut


class QuantityIn(BaseModel):
    model_config = ConfigDict(strict=True)
    quantity: int = Field(ge=0, le=MAX_QUANTITY, description="0 removes the product")


class AddressIn(BaseModel):
    line1: str = Field(max_length=1000)
    line2: str | None = Field(default=None, max_length=1000)
    city: str = Field(max_length=1000)
    region: str = Field(max_length=1000, description="State or province (a US state's code)")
    postal_code: str = Field(max_length=1000)
    country: str = Field(max_length=1000, description="ISO 3166-1 alpha-2, such as US")


class CardIn(BaseModel):
    number: str = Field(max_length=100)
    expiry: str = Field(max_length=100, description="MM/YY or MM/YYYY")
    cvc: str = Field(max_length=100)


class CheckoutIn(BaseModel):
    """The shape; what each field must hold is checked afterwards, all fields at once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ann Lee",
                    "email": "ann@example.com",
                    "address": {
                        "line1": "1 Market St",
                        "city": "San Francisco",
                        "region": "CA",
                        "postal_code": "94103",
                        "country": "US",
                    },
                    "card": {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"},
                }
            ]
        }
    )

    name: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    address: AddressIn
    card: CardIn


_PROBLEMS = {
    400: "A missing or malformed header or parameter",
    404: "No such product or order",
    409: "The cart is empty",
    422: "Invalid fields",
    503: "The database tier is unavailable: try again",
}


def documented(ok: int, model: type[BaseModel], *problems: int) -> dict[int | str, Any]:
    """A route's ``responses``: ``model`` for ``ok``, and a problem for each of ``problems``
    and for 503, the database tier unavailable."""
    responses: dict[int | str, Any] = {ok: {"model": model}}
    for status in (*problems, 503):
        responses[status] = {
            "description": _PROBLEMS[status],
            "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}},
        }
    return responses
