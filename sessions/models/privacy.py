"""Privacy: the staff audit log and a shopper's consent to keep a consultation's media.

Retention periods are the brand's (``Brand.*_retention_days``); what is erased, kept or
exported for a shopper is decided in ``sessions/privacy/tables.py``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from sessions.models.base import utc_field


class AuditEntry(SQLModel, table=True):
    """One staff action that changed prices, stock, settings, sanctions or roles.

    Written in the same transaction as the change it describes (``sessions.privacy.audit``):
    there is no change without its row, and no row for a change that was rolled back. It
    names shoppers by id only, so erasing a shopper leaves nothing of them here."""

    __tablename__ = "audit_entries"
    # The admin page lists a brand's entries newest first, filtered by action.
    __table_args__ = (Index("ix_audit_entries_brand_at", "brand_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int | None = Field(default=None, foreign_key="brands.id", ondelete="CASCADE")
    # Who: the staff member (None: the system or the command line); their name as it was.
    actor_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    actor_name: str = Field(default="system", max_length=120)
    action: str = Field(max_length=48, index=True, description="e.g. stock.set, price.set")
    target: str = Field(default="", max_length=120, description="e.g. variant:12")
    # What changed, as JSON ({"field": [before, after]} or the action's own facts).
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(default_now=True)


class ConsultationConsent(SQLModel, table=True):
    """The shopper's answer, before anything is kept, to "may we record this consultation
    and keep the pictures taken in it?" (recording only where the brand records). Without
    an accepting row nothing is recorded and no snapshot is kept (sessions/privacy/consent.py)."""

    __tablename__ = "consultation_consents"

    id: int | None = Field(default=None, primary_key=True)
    live_session_id: int = Field(
        foreign_key="live_sessions.id", unique=True, index=True, ondelete="CASCADE"
    )
    shopper_id: int = Field(foreign_key="shoppers.id", index=True, ondelete="CASCADE")
    accepted: bool = Field(default=False)
    # Whether the question included the recording (the brand records consultations).
    recording_asked: bool = Field(default=False)
    decided_at: datetime = utc_field(default_now=True)
