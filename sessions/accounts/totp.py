"""Optional two-factor sign-in (TOTP, RFC 6238) for brand admins, with recovery codes.

Enrolment: a secret is made (``do_start``) and shown as a QR code; one right code from
the authenticator app turns it on (``do_confirm``) and yields ten single-use recovery
codes, shown once and stored hashed (argon2id). Sign-in then asks for a code after the
password (``do_check``): a code of the current 30-second step or either neighbour
(clock drift), each step good once (``totp_last_step``), or one unused recovery code.
Wrong codes are throttled per person; turning it off takes a good code too.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete
from sqlmodel import Session, col, select

from sessions.accounts import audit
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, InvalidInput, TooManyRequests
from sessions.models import RecoveryCode, User
from sessions.passwords import hash_password, verify_password
from sessions.ratelimit import RateLimiter

ISSUER = "Vitrine"
RECOVERY_CODES = 10
DRIFT_STEPS = 1
# Six digits are a million guesses: five wrong ones per person in five minutes.
wrong_codes = RateLimiter("totp", "5 per 5 minutes", "")


def is_on(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def provisioning_uri(user: User, brand_name: str | None = None) -> str:
    assert user.totp_secret is not None
    issuer = f"{ISSUER} · {brand_name}" if brand_name else ISSUER
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=issuer)


def do_start(db: Session, user: User) -> str:
    """A new secret for enrolment (a restart replaces an unconfirmed one)."""
    if is_on(user):
        raise Conflict(N_("Two-factor sign-in is already on."))
    user.totp_secret = pyotp.random_base32()
    db.add(user)
    db.commit()
    return user.totp_secret


def _clean(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())[:32]


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step this 6-digit code belongs to, within the allowed drift."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _throttled(user: User) -> None:
    try:
        wrong_codes.check(f"user:{user.id}")
    except TooManyRequests:
        raise TooManyRequests(
            N_("Too many wrong codes. Wait five minutes and try again."), retry_after=300
        ) from None


def _refuse(user: User) -> InvalidInput:
    wrong_codes.allow(f"user:{user.id}")
    return InvalidInput(N_("That code is not right. Try the newest one."), field="code")


def do_confirm(db: Session, user: User, code: str, *, now: datetime | None = None) -> list[str]:
    """Turn it on with a code from the app; returns the recovery codes (shown once)."""
    now = now or utcnow()
    if is_on(user):
        raise Conflict(N_("Two-factor sign-in is already on."))
    if user.totp_secret is None:
        raise Conflict(N_("Start again: scan a new code first."))
    _throttled(user)
    step = _matching_step(user.totp_secret, _clean(code), now)
    if step is None:
        raise _refuse(user)
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(db, user)
    db.add(user)
    db.commit()
    _note(db, "two_factor_on", user)
    return codes


def _new_recovery_codes(db: Session, user: User) -> list[str]:
    assert user.id is not None
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = [f"{c[:5]}-{c[5:]}" for c in (secrets.token_hex(5) for _ in range(RECOVERY_CODES))]
    for code in codes:
        db.add(RecoveryCode(user_id=user.id, code_hash=hash_password(_clean(code))))
    return codes


def _use_recovery_code(db: Session, user: User, code: str, now: datetime) -> bool:
    if len(code) != 10:
        return False
    unused = db.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None)
        )
    ).all()
    for row in unused:
        if verify_password(row.code_hash, code):
            row.used_at = now
            db.add(row)
            return True
    return False


def do_check(db: Session, user: User, code: str, *, now: datetime | None = None) -> None:
    """The second step of sign-in (or of turning it off): a fresh code or a recovery code."""
    now = now or utcnow()
    if not is_on(user):
        return
    assert user.totp_secret is not None
    _throttled(user)
    cleaned = _clean(code)
    step = _matching_step(user.totp_secret, cleaned, now)
    if step is not None and step > user.totp_last_step:
        user.totp_last_step = step
        db.add(user)
        db.commit()
        return
    if step is None and _use_recovery_code(db, user, cleaned, now):
        db.commit()
        return
    db.rollback()
    raise _refuse(user)


def recovery_codes_left(db: Session, user: User) -> int:
    return len(
        db.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None)
            )
        ).all()
    )


def do_disable(db: Session, user: User, code: str, *, now: datetime | None = None) -> None:
    if not is_on(user):
        raise Conflict(N_("Two-factor sign-in is already off."))
    do_check(db, user, code, now=now)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = 0
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    db.add(user)
    db.commit()
    _note(db, "two_factor_off", user)


def _note(db: Session, action: str, user: User) -> None:
    audit.note(db, audit.AccountAction(action, user.id, user.brand_id, actor_user_id=user.id))
