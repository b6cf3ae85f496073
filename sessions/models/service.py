"""The service desk: one thread per shopper and brand, its messages, who holds it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sessions.models.base import enum_column, utc_field


class ThreadStatus(enum.StrEnum):
    WAITING = "waiting"  # in the routing queue: nobody holds it yet
    ASSIGNED = "assigned"  # an associate holds it
    CLOSED = "closed"  # over until the shopper asks again (the same thread reopens)


class ThreadMessageKind(enum.StrEnum):
    TEXT = "text"
    PRODUCT = "product"  # a product card
    PHOTO = "photo"  # an attachment (a try-on snapshot, a picture)
    SYSTEM = "system"  # "video started", "Camille joined"
    AUTOMATIC = "automatic"  # the automatic answer when nobody is free


class ThreadSide(enum.StrEnum):
    SHOPPER = "shopper"
    STAFF = "staff"
    SYSTEM = "system"


class Thread(SQLModel, table=True):
    """Everything between one shopper and one brand, across every channel."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("brand_id", "shopper_id", name="uq_threads_brand_shopper"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True, ondelete="CASCADE")
    status: ThreadStatus = Field(
        default=ThreadStatus.WAITING, sa_column=enum_column(ThreadStatus, 12)
    )
    language: str = Field(default="en", max_length=8)
    store_id: int | None = Field(default=None, foreign_key="stores.id")
    # Who holds it (ASSIGNED), or who it is offered to while it waits.
    associate_id: int | None = Field(default=None, foreign_key="associate_profiles.id")
    offered_to: int | None = Field(default=None, foreign_key="associate_profiles.id")
    offered_at: datetime | None = utc_field(nullable=True)
    declined_by: str = Field(default="", max_length=255, description="comma list of associate ids")
    waiting_since: datetime | None = utc_field(nullable=True, index=True)
    auto_answered_at: datetime | None = utc_field(nullable=True)
    # The last message each side has read (a message id; 0: none).
    shopper_read_id: int = Field(default=0)
    staff_read_id: int = Field(default=0)
    last_message_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field(default_now=True)


class ThreadMessage(SQLModel, table=True):
    """Stored before it is published; its id orders the thread."""

    __tablename__ = "thread_messages"
    # A retried send is found by (thread, client_id) without scanning the history.
    __table_args__ = (Index("ix_thread_messages_thread_client", "thread_id", "client_id"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="threads.id", index=True, ondelete="CASCADE")
    kind: ThreadMessageKind = Field(
        default=ThreadMessageKind.TEXT, sa_column=enum_column(ThreadMessageKind, 12)
    )
    side: ThreadSide = Field(sa_column=enum_column(ThreadSide, 8))
    user_id: int | None = Field(default=None, foreign_key="users.id")
    author_name: str = Field(max_length=120)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    # A system note as its msgid and parameters (sessions.i18n.pack): ``body`` is its English
    # text, and each reader gets it in their own language ("Anna joined", "Anna a rejoint").
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    product_id: int | None = Field(default=None, foreign_key="products.id")
    attachment_url: str | None = Field(default=None, max_length=500)
    # Where the shopper asked from, beyond the product page: a show ("During the show …").
    show_id: int | None = Field(default=None, foreign_key="shows.id")
    context: str = Field(default="", max_length=200)
    client_id: str | None = Field(default=None, max_length=64)
    # A corrected snapshot's figures (sessions/colour/report.py), as in the room's chat.
    colour_report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = utc_field(default_now=True)
