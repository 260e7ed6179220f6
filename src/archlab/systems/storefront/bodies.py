"""The API's JSON bodies, built from the tables' rows (``schemas`` documents their shape) and
serialised compactly, once: these bytes are what is cached and answered as they are."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from archlab.systems.storefront.models import Order, Product


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def utc(moment: datetime) -> datetime:
    """SQLite gives times back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def product(product: Product, detail: bool) -> dict[str, Any]:
    shown = {
        "id": product.id,
        "name": product.name,
        "coverage": product.coverage,
        "summary": product.summary,
        "monthly_premium": money(product.monthly_premium_cents),
        "currency": product.currency,
        "features": list(product.features),
    }
    if detail:
        shown["description"] = product.description
    return shown


def line(product_id: str, name: str, coverage: str, quantity: int, cents: int) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "name": name,
        "coverage": coverage,
        "quantity": quantity,
        "monthly_premium": money(cents),
        "line_total": money(cents * quantity),
    }


def order(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "created": utc(order.created_at).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "status": order.status,
        "items": [
            line(i.product_id, i.name, i.coverage, i.quantity, i.monthly_premium_cents)
            for i in order.items
        ],
        "total": money(order.total_cents),
        "currency": order.currency,
        "customer": {"name": order.customer_name, "email": order.customer_email},
        "address": {
            "line1": order.address_line1,
            "line2": order.address_line2,
            "city": order.address_city,
            "region": order.address_region,
            "postal_code": order.address_postal_code,
            "country": order.address_country,
        },
        "card": {"brand": order.card_brand, "last4": order.card_last4},
    }
