"""Staff accounts' e-mailed links (invitations, password resets) and two-factor recovery codes.

Each link row is its own outbox (committed first, sent after, claimed with a conditional
UPDATE on ``claimed_at``, like the shopper's sign-in link). The link's secret is never
stored: the row keeps a random ``salt`` and the SHA-256 of the token, and the token is an
HMAC of the row's id and salt under the app's secret key (sessions/accounts/tokens.py),
so a copy of the database alone opens no account.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from sessions.models.accounts import Role
from sessions.models.base import enum_column, utc_field


class StaffInvitation(SQLModel, table=True):
    """A brand admin's invitation: the account is made when the link is used."""

    __tablename__ = "staff_invitations"

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254, index=True)
    name: str = Field(max_length=120)
    role: Role = Field(sa_column=enum_column(Role, 20))
    # Comma-separated store ids of an associate ("3,5"); empty for a brand admin.
    store_ids: str = Field(default="", max_length=255)
    languages: str = Field(default="en", max_length=120)
    specialities: str = Field(default="", max_length=255)
    invited_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # The language the e-mail is written in (the inviter's page language).
    locale: str = Field(default="en", max_length=16)
    salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = utc_field(default_now=True)
    expires_at: datetime = utc_field()
    accepted_at: datetime | None = utc_field(nullable=True)
    revoked_at: datetime | None = utc_field(nullable=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    claimed_at: datetime | None = utc_field(nullable=True)
    sent_at: datetime | None = utc_field(nullable=True)
    attempts: int = Field(default=0)


class PasswordReset(SQLModel, table=True):
    """A "forgot password" link for one staff member: works once, for a short time."""

    __tablename__ = "password_resets"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    locale: str = Field(default="en", max_length=16)
    salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = utc_field(default_now=True)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
    claimed_at: datetime | None = utc_field(nullable=True)
    sent_at: datetime | None = utc_field(nullable=True)
    attempts: int = Field(default=0)


class RecoveryCode(SQLModel, table=True):
    """One of a two-factor user's single-use recovery codes, stored hashed (argon2id)."""

    __tablename__ = "recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=255)
    used_at: datetime | None = utc_field(nullable=True)
