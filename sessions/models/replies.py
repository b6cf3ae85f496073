"""Saved replies: the brand's (made by its admin) and each associate's own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from sessions.models.base import utc_field


class SavedReply(SQLModel, table=True):
    """A text an associate inserts into a conversation, its placeholders filled from the
    thread ({shopper}, {product}, {size}...: sessions/service/replies.py)."""

    __tablename__ = "saved_replies"
    # The picker lists a brand's replies and one associate's own: one index range each.
    __table_args__ = (Index("ix_saved_replies_brand_associate", "brand_id", "associate_id"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", ondelete="CASCADE")
    # None: the brand's, for all its staff; else one associate's own.
    associate_id: int | None = Field(
        default=None, foreign_key="associate_profiles.id", ondelete="CASCADE"
    )
    title: str = Field(max_length=80)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)
