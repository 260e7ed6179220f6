"""The storefront's tables, as SQLAlchemy declarative models.

Money is kept in integer cents: exact on every engine (SQLite has no decimal type) and summed
without rounding. Times are timezone-aware UTC. An order keeps what was bought as it was sold
(name, coverage, price), so later catalogue changes do not rewrite past orders, and of the card
only its brand and last four digits: the number and the security code are never stored.

``Cart.version`` grows with every write to a session's cart or orders. Writes take the cart row
first, so they are serialised per session and the version orders them; the cache uses it so
that a slow reader never replaces a newer write's entry (see ``store``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names spelled out, so migrations can name what they alter on every engine."""

SESSION_ID = 64
IDEMPOTENCY_KEY = 100
MAX_QUANTITY = 10


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)
    """Where it appears in the catalogue."""
    name: Mapped[str] = mapped_column(String(120))
    coverage: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(2000))
    monthly_premium_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    features: Mapped[list[str]] = mapped_column(JSON)


class Cart(Base):
    """A session's cart. The row exists from the session's first write."""

    __tablename__ = "carts"

    session_id: Mapped[str] = mapped_column(String(SESSION_ID), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    items: Mapped[list[CartItem]] = relationship(cascade="all, delete-orphan")


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity"),)

    session_id: Mapped[str] = mapped_column(
        ForeignKey("carts.session_id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int]


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(SESSION_ID), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str] = mapped_column(String(254))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    address_city: Mapped[str] = mapped_column(String(100))
    address_region: Mapped[str] = mapped_column(String(100))
    address_postal_code: Mapped[str] = mapped_column(String(16))
    address_country: Mapped[str] = mapped_column(String(2))
    card_brand: Mapped[str] = mapped_column(String(16))
    card_last4: Mapped[str] = mapped_column(String(4))
    total_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    items: Mapped[list[OrderItem]] = relationship(
        cascade="all, delete-orphan", order_by="OrderItem.line", lazy="selectin"
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(120))
    coverage: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int]
    monthly_premium_cents: Mapped[int]
    line_total_cents: Mapped[int]


class CheckoutRequest(Base):
    """An idempotency record: a checkout's key, per session, and the order it made.

    The primary key makes a second order for the same key impossible, whatever number of
    processes race. ``fingerprint`` is a digest of the request with the card reduced to its
    brand and last four digits, so a reused key with another body is recognised without the
    card number being stored in any form."""

    __tablename__ = "checkout_requests"

    session_id: Mapped[str] = mapped_column(String(SESSION_ID), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
