"""A chat turning into video: "Show me on camera" (the shopper asks) or "Try it on for you
on camera" (the associate holding the thread offers), answered by the other side."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from sessions.models.base import enum_column, utc_field


class VideoSide(enum.StrEnum):
    SHOPPER = "shopper"  # the thread's shopper asked to be shown on camera
    STAFF = "staff"  # the associate holding the thread offered


class VideoRequestStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the other side's answer (until expires_at)
    ACCEPTED = "accepted"  # a consultation opened: live_session_id
    DECLINED = "declined"  # the other side said not now
    CANCELLED = "cancelled"  # whoever asked withdrew it
    EXPIRED = "expired"  # nobody answered before expires_at (the scheduler's queue job)


class VideoRequest(SQLModel, table=True):
    """One ask for video in a thread; its answer, and the consultation it opened."""

    __tablename__ = "video_requests"

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="threads.id", index=True, ondelete="CASCADE")
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", index=True, ondelete="CASCADE")
    # The associate holding the thread when it was asked: the one who goes on camera.
    associate_id: int = Field(foreign_key="associate_profiles.id", index=True)
    asked_by: VideoSide = Field(sa_column=enum_column(VideoSide, 8))
    status: VideoRequestStatus = Field(
        default=VideoRequestStatus.PENDING, sa_column=enum_column(VideoRequestStatus, 10)
    )
    live_session_id: int | None = Field(default=None, foreign_key="live_sessions.id")
    created_at: datetime = utc_field(default_now=True)
    expires_at: datetime = utc_field()
    answered_at: datetime | None = utc_field(nullable=True)
