"""Actions on brands, users and associates; sign-in with throttling; ending sessions.

Beside this module: invitations.py (invite staff by e-mail, they set their password),
resets.py (forgot password), totp.py (two-factor sign-in), outbox.py (their e-mails,
each sent once), tokens.py (link secrets stored only as hashes), audit.py (the hook
account actions announce themselves on).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from sessions.access import Actor, access_change_role, access_manage_user
from sessions.clock import as_utc, utcnow
from sessions.errors import N_, Conflict, InvalidInput, TooManyRequests
from sessions.events import publish
from sessions.models import AssociateProfile, AssociateStore, Brand, LoginAttempt, Role, Store, User
from sessions.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from sessions.privacy import (
    audit as audit_log,
)  # the audit log (sessions/accounts/audit.py is the hook)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Verifying against a throwaway hash keeps the time of "no such user" close to a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-0")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254 or not _is_addr_spec(email):
        raise InvalidInput("Enter a valid e-mail address.", field="email")
    return email


def _is_addr_spec(email: str) -> bool:
    """One RFC 5322 address, as the mail headers will parse it (no comma, quote, <...>)."""
    try:
        parsed = Address(addr_spec=email)
    except (ValueError, IndexError):
        return False
    return parsed.addr_spec == email


def check_password_strength(password: str) -> None:
    # The message names the number: MIN_PASSWORD_LENGTH is 10 (one catalogue entry).
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(N_("Use at least 10 characters for the password."), field="password")


def do_create_brand(db: Session, *, slug: str, name: str, currency: str = "EUR") -> Brand:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput("Use lowercase letters, digits and dashes for the slug.", field="slug")
    if db.exec(select(Brand).where(Brand.slug == slug)).first():
        raise Conflict(
            N_("A brand with slug '%(slug)s' already exists."), params={"slug": slug}, field="slug"
        )
    brand = Brand(slug=slug, name=name.strip(), currency=currency.upper())
    db.add(brand)
    db.commit()
    return brand


def do_create_user(
    db: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    brand_id: int | None,
    by: Actor | None = None,
) -> User:
    email = normalise_email(email)
    check_password_strength(password)
    if role is not Role.PLATFORM_ADMIN and brand_id is None:
        raise InvalidInput("Brand staff must belong to a brand.", field="brand_id")
    if db.exec(select(User).where(User.email == email)).first():
        raise Conflict("An account with this e-mail already exists.", field="email")
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        role=role,
        brand_id=brand_id if role is not Role.PLATFORM_ADMIN else None,
    )
    db.add(user)
    db.flush()  # its id, for the audit entry of the same transaction
    audit_log.record(
        db, by, "user.create", f"user:{user.id}", {"role": role.value}, brand_id=user.brand_id
    )
    db.commit()
    return user


def do_create_associate(
    db: Session,
    *,
    brand_id: int,
    email: str,
    name: str,
    password: str,
    store_ids: list[int],
    languages: str = "en",
    specialities: str = "",
    bio: str = "",
) -> AssociateProfile:
    stores = db.exec(select(Store).where(Store.id.in_(store_ids))).all()  # type: ignore[union-attr]
    if len(stores) != len(set(store_ids)) or any(s.brand_id != brand_id for s in stores):
        raise InvalidInput("Choose stores of this brand.", field="store_ids")
    user = do_create_user(
        db, email=email, name=name, password=password, role=Role.ASSOCIATE, brand_id=brand_id
    )
    assert user.id is not None
    profile = AssociateProfile(
        user_id=user.id,
        brand_id=brand_id,
        display_name=name.strip(),
        languages=languages,
        specialities=specialities,
        bio=bio,
    )
    db.add(profile)
    db.flush()
    assert profile.id is not None
    for store in stores:
        assert store.id is not None
        db.add(AssociateStore(associate_id=profile.id, store_id=store.id))
    db.commit()
    return profile


@dataclass(frozen=True)
class LoginThrottle:
    """How many failures each key may have before sign-in slows down, and how fast."""

    max_failures: int = 5  # per e-mail and address, before the first delay
    max_failures_per_address: int = 50  # per address, any e-mail (password spraying)
    window_seconds: int = 900
    first_delay_seconds: int = 15


def _failures_since(
    db: Session, since: datetime, *conditions: ColumnElement[bool]
) -> tuple[int, datetime | None]:
    """How many failed attempts match, and when the last one was."""
    count, last = db.exec(
        select(func.count(), func.max(LoginAttempt.at))
        .where(LoginAttempt.at >= since, col(LoginAttempt.success).is_(False))
        .where(*conditions)
    ).one()
    return int(count), as_utc(last) if last is not None else None


def _wait_seconds(
    failures: int, last: datetime | None, allowed: int, throttle: LoginThrottle
) -> int:
    """Seconds before the next try: none up to `allowed` failures, then doubling each time."""
    if failures < allowed or last is None:
        return 0
    delay = min(throttle.first_delay_seconds * 2 ** (failures - allowed), throttle.window_seconds)
    return max(0, math.ceil((last + timedelta(seconds=delay) - utcnow()).total_seconds()))


def check_login_allowed(db: Session, *, email: str, ip: str, throttle: LoginThrottle) -> None:
    """Slow down guessing without letting a stranger lock the owner out.

    Failures are counted per (e-mail, address) pair: someone guessing a known
    associate's password from their own address slows down only themself; the
    associate, from their own address, signs in as usual. Counting per e-mail alone
    would hand any stranger a lock-out button for every account. A looser count
    per address, any e-mail, stops one address spraying many accounts. Past each
    allowance the wait doubles with every failure (capped at the window) instead
    of a hard lock, and a success clears the pair's count. Behind a proxy the
    address is only the client's when TRUSTED_PROXY_COUNT says so (web/proxy.py).

    Counted from the login_attempts rows rather than with sessions/ratelimit.py: the
    rows hold across nodes with or without Redis, keep an audit trail, and give the
    last failure's time that a doubling wait needs (a moving window has no backoff).
    """
    since = utcnow() - timedelta(seconds=throttle.window_seconds)
    last_success = db.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.ip == ip, col(LoginAttempt.success)
        )
    ).one()
    if last_success is not None:
        since = max(since, as_utc(last_success))
    pair = _failures_since(db, since, col(LoginAttempt.email) == email, col(LoginAttempt.ip) == ip)
    address_since = utcnow() - timedelta(seconds=throttle.window_seconds)
    address = _failures_since(db, address_since, col(LoginAttempt.ip) == ip)
    wait = max(
        _wait_seconds(*pair, throttle.max_failures, throttle),
        _wait_seconds(*address, throttle.max_failures_per_address, throttle),
    )
    if wait > 0:
        if wait < 90:
            message, n = N_("Too many failed sign-ins. Wait %(n)s seconds and try again."), wait
        else:
            message = N_("Too many failed sign-ins. Wait %(n)s minutes and try again.")
            n = math.ceil(wait / 60)
        raise TooManyRequests(message, params={"n": n}, retry_after=wait)


def do_authenticate(
    db: Session, *, email: str, password: str, ip: str, throttle: LoginThrottle | None = None
) -> User | None:
    """The user if the password matches; every attempt is recorded for throttling."""
    email = email.strip().lower()[:254]
    ip = ip[:64]
    check_login_allowed(db, email=email, ip=ip, throttle=throttle or LoginThrottle())
    user = db.exec(select(User).where(User.email == email)).first()
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.is_active
    db.add(LoginAttempt(email=email, ip=ip, success=ok))
    if ok and user is not None:
        user.last_login_at = utcnow()
        db.add(user)
    db.commit()
    return user if ok else None


# --- ending sessions -----------------------------------------------------------------
# A staff cookie carries the user's session_version; raising it refuses every cookie
# and socket signed in before (see web/identity.py), on every node at once, with no
# session store to keep. The event lets the web layer close the open sockets now.


def _end_sessions(db: Session, user: User) -> None:
    """Raise the version (in the caller's transaction); publish after the commit."""
    user.session_version += 1
    db.add(user)


def _sessions_ended(user: User) -> None:
    publish("sessions_ended", None, audience=f"user:{user.id}", user_id=user.id)


def do_sign_out_everywhere(db: Session, user: User) -> None:
    """End every session and socket of this user: this browser, other devices, a stolen copy."""
    _end_sessions(db, user)
    db.commit()
    _sessions_ended(user)


def do_change_password(db: Session, user: User, *, current: str, new: str) -> None:
    """Change one's own password; every session signed in before ends (the caller signs the
    current browser in again with the new version)."""
    if not verify_password(user.password_hash, current):
        raise InvalidInput("That is not your current password.", field="current_password")
    check_password_strength(new)
    if new == current:
        raise InvalidInput("Choose a password different from the current one.", field="password")
    user.password_hash = hash_password(new)
    _end_sessions(db, user)
    db.commit()
    _sessions_ended(user)
    _note(db, "password_changed", None, user)


def do_set_user_active(db: Session, actor: Actor, user: User, *, active: bool) -> None:
    """Deactivate (ending every session and socket at once, on every node) or reactivate
    a staff account. A brand keeps at least one active brand admin."""
    access_manage_user(actor, user)
    if user.is_active == active:
        return
    if not active:
        check_keeps_an_admin(db, user)
    user.is_active = active
    if not active:
        _end_sessions(db, user)
    db.add(user)
    audit_log.record(
        db,
        actor,
        "user.activate" if active else "user.deactivate",
        f"user:{user.id}",
        {"role": user.role.value},
        brand_id=user.brand_id,
    )
    db.commit()
    if not active:
        _sessions_ended(user)
    _note(db, "reactivated" if active else "deactivated", actor, user)


def check_keeps_an_admin(db: Session, user: User) -> None:
    """Refuse to take away the last active brand admin of a brand (demoted or deactivated):
    nobody would be left to manage it, or to undo the change."""
    if user.role is not Role.BRAND_ADMIN or not user.is_active or user.brand_id is None:
        return
    others = db.exec(
        select(func.count())
        .select_from(User)
        .where(
            User.brand_id == user.brand_id,
            User.role == Role.BRAND_ADMIN,
            col(User.is_active),
            User.id != user.id,
        )
    ).one()
    if not others:
        raise Conflict(
            N_("The brand needs at least one active brand admin: make someone else one first."),
            code="last_admin",
        )


def do_set_role(db: Session, actor: Actor, user: User, *, role: Role) -> None:
    """Make an associate a brand admin, or a brand admin an associate.

    An associate made admin keeps their profile (hours, history, consultations) and may
    still serve; an admin made associate gets a profile if they had none (their stores
    are then chosen on their page). Their sessions end, so that the new role holds on
    every page and socket at once (the caller signs the current browser in again when
    the admin changed their own role)."""
    access_change_role(actor, user)
    if role not in (Role.ASSOCIATE, Role.BRAND_ADMIN):
        raise InvalidInput(N_("Choose a role."), field="role")
    if user.role is role:
        return
    if role is Role.ASSOCIATE:
        check_keeps_an_admin(db, user)
    before = user.role
    user.role = role
    has_profile = db.exec(
        select(AssociateProfile.id).where(AssociateProfile.user_id == user.id)
    ).first()
    if role is Role.ASSOCIATE and has_profile is None and user.brand_id is not None:
        assert user.id is not None
        db.add(AssociateProfile(user_id=user.id, brand_id=user.brand_id, display_name=user.name))
    _end_sessions(db, user)
    audit_log.record(
        db,
        actor,
        "user.role",
        f"user:{user.id}",
        {"role": [before.value, role.value]},
        brand_id=user.brand_id,
    )
    db.commit()
    _sessions_ended(user)
    _note(db, "role_changed", actor, user, before=before.value, after=role.value)


def _note(db: Session, action: str, actor: Actor | None, user: User, **detail: object) -> None:
    from sessions.accounts import audit

    audit.note(
        db,
        audit.AccountAction(
            action=action,
            subject_user_id=user.id,
            brand_id=user.brand_id,
            actor_user_id=actor.user_id if actor else user.id,
            detail=dict(detail),
        ),
    )
