"""A returning shopper's e-mailed sign-in link (no password): one row per link sent."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from sessions.models.base import utc_field


class SignInLink(SQLModel, table=True):
    """A one-time link that makes the browser opening it this shopper (at this brand).

    The row is its own outbox: it is committed first, then sent (claimed with a
    conditional UPDATE on ``claimed_at``, like the appointment reminders). The link
    carries only the row's id, signed; the row holds nothing that would sign anyone in.
    """

    __tablename__ = "signin_links"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254, index=True)
    created_at: datetime = utc_field(default_now=True)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
    claimed_at: datetime | None = utc_field(nullable=True)
    sent_at: datetime | None = utc_field(nullable=True)
    attempts: int = Field(default=0)
