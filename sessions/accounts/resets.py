"""Password reset by e-mail ("forgot password").

Whoever asks gets the same answer, whether an account has that e-mail or not (no
account enumeration); only an active account's owner gets a link. The link works once,
for ``RESET_MINUTES``; its token is stored only as a hash (sessions/accounts/tokens.py).
Setting the new password ends every session and socket of that person (a thief who
made them reset is signed out too) and spends the person's other reset links.
Asking is rate-limited per client address (a 429 says so) and per e-mail address
(past it, quietly nothing more is sent: the owner's inbox is not flooded, and the
answer still tells nothing).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sessions.accounts import (
    _end_sessions,
    _sessions_ended,
    audit,
    check_password_strength,
    normalise_email,
    outbox,
)
from sessions.accounts.tokens import digest, make_token, new_salt
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, NotFound, TooManyRequests
from sessions.mail import Mailer
from sessions.models import PasswordReset, User
from sessions.passwords import hash_password
from sessions.ratelimit import RateLimiter

PURPOSE = "reset"
RESET_MINUTES = 30
per_email = RateLimiter("reset-email", "3 per 15 minutes", "")
per_client = RateLimiter("reset-client", "10 per hour", "")

State = Literal["ready", "used", "expired"]


def token_of(secret: str, reset: PasswordReset) -> str:
    assert reset.id is not None
    return make_token(secret, PURPOSE, reset.id, reset.salt)


def path_of(secret: str, reset: PasswordReset) -> str:
    return f"/password/reset/{token_of(secret, reset)}"


def state_of(reset: PasswordReset, now: datetime | None = None) -> State:
    if reset.used_at is not None:
        return "used"
    if reset.expires_at <= (now or utcnow()):
        return "expired"
    return "ready"


def reset_for_token(db: Session, secret: str, token: str) -> PasswordReset:
    reset = db.exec(
        select(PasswordReset).where(PasswordReset.token_hash == digest(token[:200]))
    ).first()
    if reset is None or not hmac.compare_digest(token_of(secret, reset), token):
        raise NotFound(N_("This reset link is not valid. Use the link from your e-mail."))
    return reset


def do_request_reset(
    db: Session,
    *,
    email: object,
    client: str,
    secret: str,
    locale: str = "en",
    now: datetime | None = None,
) -> PasswordReset | None:
    """Store a reset link for the active account with this e-mail, if there is one.
    The caller answers the same whatever this returns."""
    address = normalise_email(email if isinstance(email, str) else "")
    db.commit()  # no transaction stays open across the limiter (Redis)
    if not per_client.allow(client[:64]):
        raise TooManyRequests(
            N_("Too many reset requests from here. Wait a while and try again."), retry_after=600
        )
    if not per_email.allow(address):
        return None
    user = db.exec(select(User).where(User.email == address)).first()
    if user is None or not user.is_active or user.id is None:
        return None
    now = now or utcnow()
    reset = PasswordReset(
        user_id=user.id,
        locale=locale[:16],
        salt=new_salt(),
        token_hash=new_salt(),  # a unique placeholder until the id is known
        created_at=now,
        expires_at=now + timedelta(minutes=RESET_MINUTES),
    )
    db.add(reset)
    db.flush()
    reset.token_hash = digest(token_of(secret, reset))
    db.add(reset)
    db.commit()
    return reset


def check_usable(reset: PasswordReset, now: datetime | None = None) -> None:
    state = state_of(reset, now)
    if state == "used":
        raise Conflict(N_("This reset link has already been used. Ask for a new one."))
    if state == "expired":
        raise Conflict(N_("This reset link has expired. Ask for a new one."))


def do_reset_password(
    db: Session, reset: PasswordReset, *, password: str, now: datetime | None = None
) -> User:
    """Spend the link and set the password; every session of that person ends."""
    now = now or utcnow()
    check_usable(reset, now)
    check_password_strength(password)
    spent = db.exec(
        update(PasswordReset)
        .where(
            col(PasswordReset.id) == reset.id,
            col(PasswordReset.used_at).is_(None),
            col(PasswordReset.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        db.rollback()
        db.refresh(reset)
        check_usable(reset, now)
        raise Conflict(N_("This reset link has already been used. Ask for a new one."))
    user = db.get(User, reset.user_id)
    if user is None or not user.is_active:
        db.rollback()
        raise NotFound(N_("This reset link is not valid any more."))
    user.password_hash = hash_password(password)
    _end_sessions(db, user)
    db.exec(  # the person's other links die with this one
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    db.commit()
    _sessions_ended(user)
    audit.note(
        db,
        audit.AccountAction(
            "password_reset", user.id, user.brand_id, actor_user_id=user.id, detail={}
        ),
    )
    return user


def run_due(
    engine: Engine, mailer: Mailer, compose: outbox.Compose, now: datetime | None = None
) -> int:
    return outbox.run_due(engine, mailer, PasswordReset, compose, now or utcnow())
