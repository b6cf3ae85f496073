"""Bags, stock reservations, checkout hand-offs, orders and analytics events."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from sessions.models.base import enum_column, utc_field


class BagStatus(enum.StrEnum):
    OPEN = "open"
    CHECKED_OUT = "checked_out"


class Bag(SQLModel, table=True):
    """A shopper's bag at one brand. In a consultation the associate shares it."""

    __tablename__ = "bags"
    # One open bag per shopper and brand, even when two first add-to-bags race (PostgreSQL).
    __table_args__ = (
        Index(
            "uq_bags_open_per_shopper",
            "brand_id",
            "shopper_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True)
    status: BagStatus = Field(
        default=BagStatus.OPEN,
        sa_column=enum_column(BagStatus, 12),
    )
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)


class BagLine(SQLModel, table=True):
    __tablename__ = "bag_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_bag_lines_quantity"),)

    id: int | None = Field(default=None, primary_key=True)
    bag_id: int = Field(foreign_key="bags.id", index=True, ondelete="CASCADE")
    variant_id: int = Field(foreign_key="variants.id")
    quantity: int = Field(default=1, ge=1)
    unit_price_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)
    live_session_id: int | None = Field(default=None, foreign_key="live_sessions.id")
    flash_offer_id: int | None = Field(default=None, foreign_key="flash_offers.id")
    added_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = utc_field(default_now=True)


class StockReservation(SQLModel, table=True):
    """Stock taken from a variant for a bag line until it expires or is checked out."""

    __tablename__ = "stock_reservations"

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(foreign_key="variants.id", index=True)
    bag_line_id: int | None = Field(default=None, foreign_key="bag_lines.id", ondelete="SET NULL")
    quantity: int = Field(ge=1)
    expires_at: datetime = utc_field(index=True)
    released_at: datetime | None = utc_field(nullable=True)
    converted_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field(default_now=True)


class CheckoutHandoff(SQLModel, table=True):
    __tablename__ = "checkout_handoffs"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    bag_id: int = Field(foreign_key="bags.id")
    method: str = Field(max_length=16, description="url or webhook")
    # 64-bit: a bag of several lines at the highest price passes 2**31 cents.
    total_minor: int = Field(ge=0, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    target: str = Field(default="", max_length=1000)
    status_code: int | None = None
    created_at: datetime = utc_field(default_now=True)


class AnalyticsEvent(SQLModel, table=True):
    """Append-only facts for the brand's analytics (joins, heartbeats, add-to-bag, hand-offs...).

    Kinds and how each is counted: sessions/analytics/events.py and docs/analytics.md.
    """

    __tablename__ = "analytics_events"
    # A show's summary reads its events by session and kind: one index range per kind.
    __table_args__ = (
        Index("ix_analytics_events_session_kind", "live_session_id", "kind", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32, index=True)
    live_session_id: int | None = Field(default=None, foreign_key="live_sessions.id")
    associate_id: int | None = Field(default=None, foreign_key="associate_profiles.id")
    shopper_id: int | None = Field(default=None, foreign_key="shoppers.id")
    value_minor: int = Field(default=0, sa_type=BigInteger)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    # "live" (the session had not ended) or "replay"; empty where it does not apply.
    mode: str = Field(default="", max_length=8)
    product_id: int | None = Field(default=None, foreign_key="products.id", ondelete="SET NULL")
    # One viewing (a socket in a room): joins, heartbeats and leaves share it.
    view_id: str | None = Field(default=None, max_length=64)
    # One browser, pseudonymously (a hash of its guest key, never the key itself): a guest's
    # tabs are one viewer, before and after their first action makes them a shopper row.
    viewer_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = utc_field(default_now=True, index=True)


class Order(SQLModel, table=True):
    """An order the brand's shop confirmed (signed webhook): revenue is the shop's figure."""

    __tablename__ = "orders"
    # The shop's own order id: a webhook delivered twice is one order.
    __table_args__ = (UniqueConstraint("brand_id", "external_id", name="uq_orders_external"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    external_id: str = Field(max_length=128)
    bag_id: int = Field(foreign_key="bags.id", index=True)
    handoff_id: int | None = Field(default=None, foreign_key="checkout_handoffs.id")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True)
    # The session the order is credited to, and how: "attributed", "influenced" or "none".
    live_session_id: int | None = Field(default=None, foreign_key="live_sessions.id", index=True)
    attribution: str = Field(default="none", max_length=12)
    mode: str = Field(default="", max_length=8)
    total_minor: int = Field(ge=0)
    refunded_minor: int = Field(default=0, ge=0)
    currency: str = Field(max_length=3)
    lines: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(default_now=True, index=True)
    refunded_at: datetime | None = utc_field(nullable=True)
