"""Brands, stores, people and their roles."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sessions.clock import utcnow
from sessions.models.base import UTCDateTime, enum_column, utc_field

# How long a guest's token lasts without use (the web app may set another, GUEST_LIFETIME_DAYS).
GUEST_LIFETIME = timedelta(days=30)


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    BRAND_ADMIN = "brand_admin"
    ASSOCIATE = "associate"


class Brand(SQLModel, table=True):
    __tablename__ = "brands"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=120)
    currency: str = Field(default="EUR", max_length=3)
    # The language the brand's own texts (offline message, shows, products) are written in;
    # their other languages are BrandText rows, and a missing one falls back to this.
    default_language: str = Field(default="en", max_length=8)
    primary_color: str = Field(default="#1c1c1c", max_length=7)
    accent_color: str = Field(default="#b08d57", max_length=7)
    logo_path: str | None = Field(default=None, max_length=255)
    offline_message: str = Field(
        default="Our associates are away right now. Leave a message or book a time.",
        sa_column=Column(Text, nullable=False),
    )
    # One word or phrase per line; chat messages containing them are refused.
    blocked_words: str = Field(default="", sa_column=Column(Text, nullable=False))
    # e.g. "https://shop.example/cart?add={skus}" — placeholders documented in docs/.
    checkout_url_template: str | None = Field(default=None, max_length=500)
    checkout_webhook_url: str | None = Field(default=None, max_length=500)
    webhook_secret: str | None = Field(default=None, max_length=128)
    # Origins (scheme://host[:port], one per line) allowed to frame the embed pages.
    embed_origins: str = Field(default="", sa_column=Column(Text, nullable=False))
    reservation_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Most one client may hold of one variant (bag plus recent checkouts): luxury pieces
    # are few, and a guest must not be able to take them all (sessions/bags.py).
    max_per_client: int = Field(default=2, ge=1, le=99)
    # Off by default: a consultation is recorded only when the brand says so, and
    # the shopper is told before joining (sessions.access.media_claims).
    record_consultations: bool = Field(default=False)
    # An order is "influenced" by a session the shopper watched or talked in this many days before.
    attribution_window_days: int = Field(default=7, ge=1, le=90)
    # An associate whose console shows no sign of life for this long is away (not offered
    # anyone); a shopper whose question waits this long with everyone busy gets the
    # automatic answer (sessions/service/routing.py).
    away_after_minutes: int = Field(default=10, ge=1, le=240)
    auto_answer_after_seconds: int = Field(default=120, ge=0, le=24 * 3600)
    # Shows: who asked to be reminded gets an e-mail this many minutes before the start
    # (0: only the "we are live" one).
    show_reminder_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # A slot freed by a cancellation or a move is held this long for the next shopper
    # of the waitlist before it passes to the one after (sessions/service/waitlist.py).
    waitlist_hold_minutes: int = Field(default=120, ge=5, le=7 * 24 * 60)
    # A replay sells at the price a product had when it was pinned live ("live") or at
    # today's ("current"); the product page offers "add to bag" outside live sessions
    # only when ``bag_outside_live`` is on (docs/shows.md, shoppable replay).
    replay_price: str = Field(default="live", max_length=8)
    bag_outside_live: bool = Field(default=False)
    created_at: datetime = utc_field(default_now=True)
    # The e-mailed sign-in link of a returning shopper works this long, once
    # (sessions/service/signin.py).
    signin_link_minutes: int = Field(default=30, ge=5, le=24 * 60)
    # Retention (sessions/privacy/retention.py): chat messages, a consultation's recordings
    # and snapshots, and guest shoppers unseen this many days are purged by the scheduler.
    chat_retention_days: int = Field(default=365, ge=1, le=3650)
    recording_retention_days: int = Field(default=30, ge=1, le=3650)
    guest_retention_days: int = Field(default=180, ge=1, le=3650)
    # When a node last claimed this brand's purge (the claim is a conditional UPDATE).
    purged_at: datetime | None = utc_field(nullable=True)


class Store(SQLModel, table=True):
    __tablename__ = "stores"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    city: str = Field(default="", max_length=120)
    address: str = Field(default="", max_length=255)
    timezone: str = Field(max_length=64, description="IANA zone, e.g. Europe/Paris")
    created_at: datetime = utc_field(default_now=True)


class User(SQLModel, table=True):
    """Someone who signs in: a platform admin, a brand admin or an associate."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_column=enum_column(Role, 20))
    brand_id: int | None = Field(default=None, foreign_key="brands.id", index=True)
    is_active: bool = Field(default=True)
    # Copied into the signed cookie at sign-in and compared on every request and socket
    # event: raising it (sign-out, password change, deactivation) ends every session at once.
    session_version: int = Field(default=1)
    created_at: datetime = utc_field(default_now=True)
    last_login_at: datetime | None = utc_field(nullable=True)
    # Two-factor sign-in (TOTP, sessions/accounts/totp.py): the shared secret while
    # enrolling and after; on only once a code confirmed it (``totp_enabled_at``). The last
    # time step a code was accepted for: a code is good once, not twice in its 30 s.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = utc_field(nullable=True)
    totp_last_step: int = Field(default=0)
    # The console's language, chosen in the console's settings (a code of web/i18n.py's
    # LANGUAGES); None: the browser's Accept-Language decides.
    language: str | None = Field(default=None, max_length=16)


class LoginAttempt(SQLModel, table=True):
    """Kept in the database so throttling holds across web nodes."""

    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(max_length=64, index=True)
    success: bool = Field(default=False)
    at: datetime = utc_field(default_now=True, index=True)


class Shopper(SQLModel, table=True):
    """A guest: known by a random token in a signed cookie, optionally by name/e-mail."""

    __tablename__ = "shoppers"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True, index=True)
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    timezone: str | None = Field(default=None, max_length=64)
    # The language the shopper chose with the header's switch (sessions/i18n.py): their
    # e-mails are written in it. None: not chosen yet (the page's own language is used).
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = utc_field(default_now=True)
    # The token stops working after this (refreshed on use): a leaked or abandoned guest
    # cookie does not stand for the shopper forever (web/identity.py).
    expires_at: datetime = Field(
        default_factory=lambda: utcnow() + GUEST_LIFETIME, sa_type=UTCDateTime, index=True
    )
    # Set when the shopper opened a sign-in link sent to ``email``: only a verified
    # e-mail decides who a browser is (sessions/service/signin.py).
    email_verified_at: datetime | None = utc_field(nullable=True)
    # Set when the shopper's personal data was erased (sessions/privacy/erase.py): the row
    # stays, nameless, for the brand's records (bags, orders, bookings) that point at it.
    erased_at: datetime | None = utc_field(nullable=True)


class AssociateStatus(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class AssociateProfile(SQLModel, table=True):
    __tablename__ = "associate_profiles"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True, ondelete="CASCADE")
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    display_name: str = Field(max_length=120)
    bio: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Comma-separated ISO 639-1 codes ("en,fr") and free-text specialities.
    languages: str = Field(default="en", max_length=120)
    specialities: str = Field(default="", max_length=255)
    photo_path: str | None = Field(default=None, max_length=255)
    status: AssociateStatus = Field(
        default=AssociateStatus.OFFLINE,
        sa_column=enum_column(AssociateStatus, 12),
    )
    status_changed_at: datetime | None = utc_field(nullable=True)
    # The console's last sign of life: the status set, a console socket's heartbeat.
    # None: the console was closed (its last socket went). Past the brand's
    # away_after_minutes the associate is away (sessions/service/routing.py).
    console_seen_at: datetime | None = utc_field(nullable=True)
    max_parallel_chats: int = Field(default=3, ge=1, le=20)
    slot_minutes: int = Field(default=30, ge=5, le=240)
    buffer_minutes: int = Field(default=10, ge=0, le=120)
    min_notice_minutes: int = Field(default=60, ge=0)
    max_per_day: int = Field(default=8, ge=1, le=50)


class AssociateStore(SQLModel, table=True):
    __tablename__ = "associate_stores"
    __table_args__ = (UniqueConstraint("associate_id", "store_id"),)

    id: int | None = Field(default=None, primary_key=True)
    associate_id: int = Field(foreign_key="associate_profiles.id", index=True, ondelete="CASCADE")
    store_id: int = Field(foreign_key="stores.id", index=True, ondelete="CASCADE")
