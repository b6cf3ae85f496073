"""Shows: a brand's programme of live events, their hosts and products, who asked to be
reminded of them and the e-mails that reminds them. The lifecycle is
``sessions/shows/lifecycle.py``; the live room of a show is a ``LiveSession``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sessions.models.base import enum_column, utc_field


class ShowStatus(enum.StrEnum):
    """draft -> scheduled -> live -> ended -> replay_published / replay_hidden; a draft or
    a scheduled show may be cancelled. Only ``sessions.shows.lifecycle`` moves a show."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    REPLAY_PUBLISHED = "replay_published"
    REPLAY_HIDDEN = "replay_hidden"
    CANCELLED = "cancelled"


class Show(SQLModel, table=True):
    """A brand's scheduled live event."""

    __tablename__ = "shows"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    store_id: int | None = Field(default=None, foreign_key="stores.id")
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    starts_at: datetime = utc_field(index=True)
    duration_minutes: int = Field(default=45, ge=5, le=600)
    status: ShowStatus = Field(
        default=ShowStatus.DRAFT,
        sa_column=enum_column(ShowStatus, 20),
    )
    cover_path: str | None = Field(default=None, max_length=255)
    replay_path: str | None = Field(default=None, max_length=255)
    # The part of the recording the replay plays, in seconds from its start (the brand
    # admin trims the minutes before the host said hello and after goodbye).
    replay_start_seconds: float = Field(default=0, ge=0)
    replay_end_seconds: float | None = Field(default=None, ge=0)
    created_at: datetime = utc_field(default_now=True)
    # A private show (invite-only): its access code, hashed (werkzeug's scrypt); None is a
    # public show. Set only by ``sessions.shows.private.do_set_show_private``, which
    # mirrors it on the show's live session (``LiveSession.private``) for the join gate.
    access_code_hash: str | None = Field(default=None, max_length=255)

    @property
    def private(self) -> bool:
        return self.access_code_hash is not None


class ShowHost(SQLModel, table=True):
    __tablename__ = "show_hosts"
    __table_args__ = (UniqueConstraint("show_id", "associate_id"),)

    id: int | None = Field(default=None, primary_key=True)
    show_id: int = Field(foreign_key="shows.id", index=True, ondelete="CASCADE")
    associate_id: int = Field(foreign_key="associate_profiles.id", ondelete="CASCADE")


class ShowProduct(SQLModel, table=True):
    __tablename__ = "show_products"
    __table_args__ = (UniqueConstraint("show_id", "product_id"),)

    id: int | None = Field(default=None, primary_key=True)
    show_id: int = Field(foreign_key="shows.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="products.id", ondelete="CASCADE")
    position: int = Field(default=0)


class ShowReminder(SQLModel, table=True):
    """Someone asked to be reminded of an upcoming show (one row per show and address)."""

    __tablename__ = "show_reminders"
    __table_args__ = (UniqueConstraint("show_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    show_id: int = Field(foreign_key="shows.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254)
    shopper_id: int | None = Field(default=None, foreign_key="shoppers.id", ondelete="SET NULL")
    # The page's language when they asked: the reminders are written in it (sessions/i18n.py).
    language: str = Field(default="en", max_length=8)
    created_at: datetime = utc_field(default_now=True)
    unsubscribed_at: datetime | None = utc_field(nullable=True)


class ShowMailKind(enum.StrEnum):
    CONFIRM = "confirm"  # at once: "we will remind you", with the .ics
    BEFORE = "before"  # the brand's show_reminder_minutes before the start, with the .ics
    LIVE = "live"  # when the host goes live: "we are live"
    CANCELLED = "cancelled"  # the brand cancelled it: "it will not take place", the .ics updated


class ShowReminderMail(SQLModel, table=True):
    """One e-mail of a reminder, sent exactly once: whoever sends it first claims it
    (``UPDATE ... SET claimed_at WHERE claimed_at IS NULL``), as appointment reminders are.
    When it is due is read from the show and its brand at send time, never stored, so a
    show moved or a brand's lead time changed is followed without rewriting rows."""

    __tablename__ = "show_reminder_mails"
    __table_args__ = (UniqueConstraint("reminder_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="show_reminders.id", index=True, ondelete="CASCADE")
    kind: ShowMailKind = Field(sa_column=enum_column(ShowMailKind, 12))
    claimed_at: datetime | None = utc_field(nullable=True)
    sent_at: datetime | None = utc_field(nullable=True)
    attempts: int = Field(default=0)


class CohostStatus(enum.StrEnum):
    """invited -> accepted (may publish) -> removed; an invitation may also be withdrawn."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    REMOVED = "removed"
    WITHDRAWN = "withdrawn"


class CohostKind(enum.StrEnum):
    ASSOCIATE = "associate"  # another associate of the brand, signed in
    GUEST = "guest"  # anyone holding the invitation link (a designer, a stylist)


class ShowCohost(SQLModel, table=True):
    """The second camera of a show: one associate or one guest invited by a link.

    ``sessions/shows/cohost.py`` alone changes these rows. A guest's link carries a random
    token, of which only the SHA-256 is stored; it opens once (``used_at``) and expires.
    Once removed, the row never publishes again: a new co-host needs a new invitation."""

    __tablename__ = "show_cohosts"

    id: int | None = Field(default=None, primary_key=True)
    show_id: int = Field(foreign_key="shows.id", index=True, ondelete="CASCADE")
    kind: CohostKind = Field(sa_column=enum_column(CohostKind, 12))
    associate_id: int | None = Field(
        default=None, foreign_key="associate_profiles.id", ondelete="CASCADE"
    )
    # What viewers read under the co-host's picture.
    display_name: str = Field(max_length=80)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
    status: CohostStatus = Field(
        default=CohostStatus.INVITED, sa_column=enum_column(CohostStatus, 12)
    )
    # Their camera reaches the relay (their page says so once connected, and when it leaves).
    on_air: bool = Field(default=False)
    # Silenced by the host at the relay: viewers hear nothing of them.
    muted: bool = Field(default=False)
    invited_by_user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    created_at: datetime = utc_field(default_now=True)


class ShowCaption(SQLModel, table=True):
    """The captions of a show's replay in one language: a WebVTT file the brand's admin
    uploaded, checked cue by cue before it is kept (``sessions/shows/captions.py``)."""

    __tablename__ = "show_captions"
    __table_args__ = (UniqueConstraint("show_id", "language", name="uq_show_captions_language"),)

    id: int | None = Field(default=None, primary_key=True)
    show_id: int = Field(foreign_key="shows.id", index=True, ondelete="CASCADE")
    # A language code of the site's (web/i18n.py: en, fr, zh_Hans).
    language: str = Field(max_length=16)
    vtt: str = Field(sa_column=Column(Text, nullable=False))
    cue_count: int = Field(default=0, ge=0)
    uploaded_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = utc_field(default_now=True)


class ShowInvitee(SQLModel, table=True):
    """One guest of a private show with a personal link (``sessions/shows/invitees.py``):
    the link's token is stored as its SHA-256 only; revoking it ends its passes too."""

    __tablename__ = "show_invitees"
    __table_args__ = (UniqueConstraint("show_id", "email", name="uq_show_invitees_email"),)

    id: int | None = Field(default=None, primary_key=True)
    show_id: int = Field(foreign_key="shows.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = utc_field(default_now=True)
    mailed_at: datetime | None = utc_field(nullable=True)
    # The first pass taken with the link (its page's button), and how many since (devices).
    opened_at: datetime | None = utc_field(nullable=True)
    passes: int = Field(default=0, ge=0)
    # The first time a pass of this link joined the show while it was live.
    watched_at: datetime | None = utc_field(nullable=True)
    revoked_at: datetime | None = utc_field(nullable=True)


class ShowInviteeUse(SQLModel, table=True):
    """Each pass taken with a personal link: when, from which browser (the link may be
    used on several devices of its invitee; the brand sees each)."""

    __tablename__ = "show_invitee_uses"

    id: int | None = Field(default=None, primary_key=True)
    invitee_id: int = Field(foreign_key="show_invitees.id", index=True, ondelete="CASCADE")
    created_at: datetime = utc_field(default_now=True)
    user_agent: str = Field(default="", max_length=300)
    client: str = Field(default="", max_length=64)
