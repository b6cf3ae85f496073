"""Actions on brands, users and associates; sign-in with throttling."""

from __future__ import annotations

import re
from datetime import timedelta
from email.headerregistry import Address

from sqlalchemy import func
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.errors import Conflict, InvalidInput, TooManyRequests
from sessions.models import AssociateProfile, AssociateStore, Brand, LoginAttempt, Role, Store, User
from sessions.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password

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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for the password.", field="password"
        )


def do_create_brand(db: Session, *, slug: str, name: str, currency: str = "EUR") -> Brand:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput("Use lowercase letters, digits and dashes for the slug.", field="slug")
    if db.exec(select(Brand).where(Brand.slug == slug)).first():
        raise Conflict(f"A brand with slug '{slug}' already exists.", field="slug")
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


def check_login_allowed(
    db: Session, *, email: str, ip: str, max_failures: int, window_seconds: int
) -> None:
    """Refuse after too many recent failures for this e-mail or from this address."""
    since = utcnow() - timedelta(seconds=window_seconds)
    failures = db.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))  # type: ignore[attr-defined]
        .where((LoginAttempt.email == email) | (LoginAttempt.ip == ip))
    ).one()
    if failures >= max_failures:
        raise TooManyRequests(
            "Too many failed sign-ins. Wait a few minutes and try again.",
            retry_after=window_seconds,
        )


def do_authenticate(
    db: Session, *, email: str, password: str, ip: str, max_failures: int, window_seconds: int
) -> User | None:
    """The user if the password matches; every attempt is recorded for throttling."""
    email = email.strip().lower()
    check_login_allowed(
        db, email=email, ip=ip, max_failures=max_failures, window_seconds=window_seconds
    )
    user = db.exec(select(User).where(User.email == email)).first()
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.is_active
    db.add(LoginAttempt(email=email[:254], ip=ip[:64], success=ok))
    if ok and user is not None:
        user.last_login_at = utcnow()
        db.add(user)
    db.commit()
    return user if ok else None
