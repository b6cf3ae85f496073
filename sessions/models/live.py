"""Live sessions and what happens in them: chat, moderation, pins, offers.

A show's own tables (its programme, hosts, products, reminders) are in
``sessions/models/shows.py``."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from sessions.models.base import enum_column, utc_field


class SessionKind(enum.StrEnum):
    SHOW = "show"
    CONSULTATION = "consultation"


class SessionStatus(enum.StrEnum):
    WAITING = "waiting"
    LIVE = "live"
    ENDED = "ended"


class LiveSession(SQLModel, table=True):
    """One per show or consultation: the Socket.IO room and the relay room."""

    __tablename__ = "live_sessions"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    kind: SessionKind = Field(sa_column=enum_column(SessionKind, 16))
    show_id: int | None = Field(default=None, foreign_key="shows.id", unique=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointments.id", unique=True)
    # Consultations started from the talk-now queue have no appointment.
    queue_request_id: int | None = Field(default=None, foreign_key="queue_requests.id")
    shopper_id: int | None = Field(default=None, foreign_key="shoppers.id")
    associate_id: int | None = Field(default=None, foreign_key="associate_profiles.id")
    room: str = Field(max_length=64, unique=True, index=True)
    status: SessionStatus = Field(
        default=SessionStatus.WAITING,
        sa_column=enum_column(SessionStatus, 12),
    )
    started_at: datetime | None = utc_field(nullable=True)
    ended_at: datetime | None = utc_field(nullable=True)
    hearts: int = Field(default=0)
    peak_viewers: int = Field(default=0)
    # Consultations: the shopper is on the waiting screen, for the associate to admit.
    shopper_arrived_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field(default_now=True)
    # Shows: invite-only (the show's access code), mirrored from Show.access_code_hash.
    private: bool = Field(default=False)
    # Consultations: when the relay's recordings and snapshots of this room were deleted
    # (retention or the shopper's erasure; sessions/privacy/retention.py).
    media_purged_at: datetime | None = utc_field(nullable=True)
    # The registered relay carrying this session's rooms (sessions/relays.py): set on the
    # first media grant, so every web node hands out the same one; None with one relay.
    relay_id: str | None = Field(default=None, max_length=255)


class MessageKind(enum.StrEnum):
    TEXT = "text"
    PRODUCT = "product"
    SNAPSHOT = "snapshot"
    SYSTEM = "system"


class ChatMessage(SQLModel, table=True):
    """Stored before it is broadcast; its id orders the room's history."""

    __tablename__ = "chat_messages"
    # A retried send is found by (session, client_id) without scanning the room's history.
    __table_args__ = (Index("ix_chat_messages_session_client", "live_session_id", "client_id"),)

    id: int | None = Field(default=None, primary_key=True)
    live_session_id: int = Field(foreign_key="live_sessions.id", index=True, ondelete="CASCADE")
    kind: MessageKind = Field(
        default=MessageKind.TEXT,
        sa_column=enum_column(MessageKind, 12),
    )
    user_id: int | None = Field(default=None, foreign_key="users.id")
    shopper_id: int | None = Field(default=None, foreign_key="shoppers.id")
    author_name: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    product_id: int | None = Field(default=None, foreign_key="products.id")
    attachment_path: str | None = Field(default=None, max_length=255)
    # A colour-corrected snapshot's figures: the card's residual ΔE, the measured colour
    # of the piece against the catalogue's (sessions/colour/report.py).
    colour_report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Lets a client that retries after a lost ack be told "already stored".
    client_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = utc_field(default_now=True)
    deleted_at: datetime | None = utc_field(nullable=True)
    deleted_by: int | None = Field(default=None, foreign_key="users.id")


class SanctionKind(enum.StrEnum):
    MUTE = "mute"
    BAN = "ban"


class RoomSanction(SQLModel, table=True):
    """A mute or ban of a shopper in one live session, enforced by the server."""

    __tablename__ = "room_sanctions"

    id: int | None = Field(default=None, primary_key=True)
    live_session_id: int = Field(foreign_key="live_sessions.id", index=True, ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True)
    kind: SanctionKind = Field(sa_column=enum_column(SanctionKind, 8))
    until: datetime | None = utc_field(nullable=True)
    by_user_id: int = Field(foreign_key="users.id")
    created_at: datetime = utc_field(default_now=True)
    lifted_at: datetime | None = utc_field(nullable=True)


class PinnedProduct(SQLModel, table=True):
    __tablename__ = "pinned_products"

    id: int | None = Field(default=None, primary_key=True)
    live_session_id: int = Field(foreign_key="live_sessions.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="products.id", ondelete="CASCADE")
    pinned_at: datetime = utc_field(default_now=True)
    unpinned_at: datetime | None = utc_field(nullable=True)
    # The one the host marked "showing now" (at most one pin of a session at a time).
    showing: bool = Field(default=False)
    # The product's price when it was pinned: a replay may sell at it (the brand's
    # ``replay_price``), and the replay's product timeline shows it.
    price_minor: int | None = Field(default=None, ge=0)


class FlashOffer(SQLModel, table=True):
    """A time-limited price on a pinned product; it ends on the server's clock."""

    __tablename__ = "flash_offers"

    id: int | None = Field(default=None, primary_key=True)
    live_session_id: int = Field(foreign_key="live_sessions.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="products.id", ondelete="CASCADE")
    price_minor: int = Field(ge=0)
    quantity: int = Field(ge=1)
    claimed: int = Field(default=0, ge=0)
    starts_at: datetime = utc_field(default_now=True)
    ends_at: datetime = utc_field()
    cancelled_at: datetime | None = utc_field(nullable=True)
    # When the scheduler announced its end: set once, by whichever node claims it first.
    ended_at: datetime | None = utc_field(nullable=True)
