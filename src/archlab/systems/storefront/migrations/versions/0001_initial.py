"""The storefront's tables, and the product catalogue.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from archlab.systems.storefront.products import PRODUCTS

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    products = op.create_table(
        "products",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("coverage", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("monthly_premium_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("position", name="uq_products_position"),
    )
    op.create_table(
        "carts",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_carts"),
    )
    op.create_table(
        "cart_items",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 10", name="ck_cart_items_quantity"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["carts.session_id"],
            name="fk_cart_items_session_id_carts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_cart_items_product_id_products"
        ),
        sa.PrimaryKeyConstraint("session_id", "product_id", name="pk_cart_items"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_email", sa.String(254), nullable=False),
        sa.Column("address_line1", sa.String(200), nullable=False),
        sa.Column("address_line2", sa.String(200), nullable=True),
        sa.Column("address_city", sa.String(100), nullable=False),
        sa.Column("address_region", sa.String(100), nullable=False),
        sa.Column("address_postal_code", sa.String(16), nullable=False),
        sa.Column("address_country", sa.String(2), nullable=False),
        sa.Column("card_brand", sa.String(16), nullable=False),
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_index("ix_orders_session_id", "orders", ["session_id"])
    op.create_table(
        "order_items",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("coverage", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("monthly_premium_cents", sa.Integer(), nullable=False),
        sa.Column("line_total_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_items_order_id_orders", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_order_items_product_id_products"
        ),
        sa.PrimaryKeyConstraint("order_id", "line", name="pk_order_items"),
    )
    op.create_table(
        "checkout_requests",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name="fk_checkout_requests_order_id_orders",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "idempotency_key", name="pk_checkout_requests"),
    )
    op.bulk_insert(
        products,
        [
            {
                "id": product.id,
                "position": position,
                "name": product.name,
                "coverage": product.coverage,
                "summary": product.summary,
                "description": product.description,
                "monthly_premium_cents": int(product.monthly_premium * 100),
                "currency": product.currency,
                "features": list(product.features),
            }
            for position, product in enumerate(PRODUCTS)
        ],
    )


def downgrade() -> None:
    for table in ("checkout_requests", "order_items", "orders", "cart_items", "carts", "products"):
        op.drop_table(table)
