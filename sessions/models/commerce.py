"""Bags, stock reservations, checkout hand-offs and analytics events."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text, text
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
    """Append-only counts for the brand's analytics (views, add-to-bag, hand-offs...)."""

    __tablename__ = "analytics_events"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32, index=True)
    live_session_id: int | None = Field(default=None, foreign_key="live_sessions.id")
    associate_id: int | None = Field(default=None, foreign_key="associate_profiles.id")
    shopper_id: int | None = Field(default=None, foreign_key="shoppers.id")
    value_minor: int = Field(default=0, sa_type=BigInteger)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(default_now=True, index=True)
