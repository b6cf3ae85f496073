"""Consultations: hours, exceptions, appointments, the talk-now queue, messages left."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sessions.models.base import enum_column, utc_field


class WeeklyHours(SQLModel, table=True):
    """A working span on a weekday, in the store's own time zone (split shifts: several rows)."""

    __tablename__ = "weekly_hours"
    __table_args__ = (CheckConstraint("start_time < end_time", name="ck_weekly_hours_order"),)

    id: int | None = Field(default=None, primary_key=True)
    associate_id: int = Field(foreign_key="associate_profiles.id", index=True, ondelete="CASCADE")
    store_id: int = Field(foreign_key="stores.id", ondelete="CASCADE")
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start_time: time
    end_time: time


class AvailabilityException(SQLModel, table=True):
    """A day off (no times) or replacement hours on one date, in the store's zone."""

    __tablename__ = "availability_exceptions"

    id: int | None = Field(default=None, primary_key=True)
    associate_id: int = Field(foreign_key="associate_profiles.id", index=True, ondelete="CASCADE")
    store_id: int | None = Field(default=None, foreign_key="stores.id")
    day: date
    start_time: time | None = None
    end_time: time | None = None
    reason: str = Field(default="", max_length=200)


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class Appointment(SQLModel, table=True):
    __tablename__ = "appointments"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    associate_id: int = Field(foreign_key="associate_profiles.id", index=True)
    store_id: int = Field(foreign_key="stores.id")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True)
    starts_at: datetime = utc_field(index=True)
    ends_at: datetime = utc_field()
    status: AppointmentStatus = Field(
        default=AppointmentStatus.BOOKED,
        sa_column=enum_column(AppointmentStatus, 12),
    )
    shopper_name: str = Field(max_length=120)
    shopper_email: str = Field(max_length=254)
    shopper_timezone: str = Field(default="UTC", max_length=64)
    language: str = Field(default="en", max_length=8)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    cancel_reason: str = Field(default="", max_length=500)
    created_at: datetime = utc_field(default_now=True)


class AppointmentSlot(SQLModel, table=True):
    """One row per grid cell an appointment (with its buffer) occupies.

    The unique constraint is what makes double booking impossible, on SQLite
    and PostgreSQL alike, however many shoppers take the same slot at once.
    Rows are deleted when the appointment is cancelled.
    """

    __tablename__ = "appointment_slots"
    __table_args__ = (UniqueConstraint("associate_id", "cell_start"),)

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointments.id", index=True, ondelete="CASCADE")
    associate_id: int = Field(foreign_key="associate_profiles.id")
    cell_start: datetime = utc_field()
    # Set while the cell is held for a shopper of the waitlist (WaitlistHold): the
    # appointment is theirs, the cell is at the held time; taking it moves them here.
    hold_id: int | None = Field(
        default=None, foreign_key="waitlist_holds.id", index=True, ondelete="CASCADE"
    )


class Reminder(SQLModel, table=True):
    """A reminder e-mail due at a time; claimed and marked sent exactly once."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("appointment_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointments.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16, description="e.g. 24h, 15m")
    due_at: datetime = utc_field(index=True)
    claimed_at: datetime | None = utc_field(nullable=True)
    sent_at: datetime | None = utc_field(nullable=True)
    attempts: int = Field(default=0)


class WaitlistEntry(SQLModel, table=True):
    """'Tell me if an earlier slot opens.'"""

    __tablename__ = "waitlist_entries"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    appointment_id: int = Field(foreign_key="appointments.id", ondelete="CASCADE")
    associate_id: int | None = Field(default=None, foreign_key="associate_profiles.id")
    created_at: datetime = utc_field(default_now=True)
    notified_at: datetime | None = utc_field(nullable=True)


class HoldStatus(enum.StrEnum):
    HELD = "held"
    TAKEN = "taken"
    LAPSED = "lapsed"


class WaitlistHold(SQLModel, table=True):
    """A freed slot held for one shopper of the waitlist until ``held_until``.

    Its grid cells are AppointmentSlot rows (``hold_id``) of the shopper's own
    appointment, so nobody else can book it meanwhile; when it lapses the cells go
    and the slot is held for the next in line (sessions/service/waitlist.py)."""

    __tablename__ = "waitlist_holds"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="waitlist_entries.id", index=True, ondelete="CASCADE")
    appointment_id: int = Field(foreign_key="appointments.id", index=True, ondelete="CASCADE")
    associate_id: int = Field(foreign_key="associate_profiles.id", index=True)
    store_id: int = Field(foreign_key="stores.id")
    starts_at: datetime = utc_field()
    offered_at: datetime = utc_field()
    held_until: datetime = utc_field(index=True)
    status: HoldStatus = Field(default=HoldStatus.HELD, sa_column=enum_column(HoldStatus, 8))


class QueueStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    CLOSED = "closed"


class QueueRequest(SQLModel, table=True):
    """A shopper asking to talk now (chat or video)."""

    __tablename__ = "queue_requests"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True)
    mode: str = Field(default="chat", max_length=8, description="chat or video")
    language: str = Field(default="en", max_length=8)
    store_id: int | None = Field(default=None, foreign_key="stores.id")
    status: QueueStatus = Field(
        default=QueueStatus.WAITING,
        sa_column=enum_column(QueueStatus, 12),
    )
    associate_id: int | None = Field(default=None, foreign_key="associate_profiles.id")
    offered_at: datetime | None = utc_field(nullable=True)
    accepted_at: datetime | None = utc_field(nullable=True)
    first_response_at: datetime | None = utc_field(nullable=True)
    declined_by: str = Field(default="", max_length=255, description="comma list of associate ids")
    created_at: datetime = utc_field(default_now=True, index=True)


class OfflineMessage(SQLModel, table=True):
    """Left by a shopper when nobody is online; answered later, by e-mail."""

    __tablename__ = "offline_messages"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    shopper_id: int | None = Field(default=None, foreign_key="shoppers.id")
    name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(default_now=True)
    answered_at: datetime | None = utc_field(nullable=True)
    answered_by: int | None = Field(default=None, foreign_key="associate_profiles.id")
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))


class Rating(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    associate_id: int = Field(foreign_key="associate_profiles.id", index=True)
    live_session_id: int = Field(foreign_key="live_sessions.id", unique=True)
    shopper_id: int = Field(foreign_key="shoppers.id")
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(default_now=True)
