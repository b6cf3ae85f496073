"""Who is making this request: a signed-in staff member, a guest shopper, or nobody.

Staff: ``session["user_id"]`` and ``session["session_version"]``, which must equal the
user's current version (sign-out, a password change or deactivation raise it, ending
every copy of the cookie at once). Shoppers: ``session["shopper_token"]`` in the same
signed cookie (or, inside a cross-site embed, in the embed's signed token). A page
may hand out a *guest key* (a random token, no row); the shopper row is created
from it the first time the guest does something that needs one (adds to bag,
chats, books, reacts), so browsing creates nothing. Creation is rate-limited per
client address; a shopper's token expires unless used (``Shopper.expires_at``).
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from sessions.access import ANONYMOUS, ROLE_TO_KIND, Actor, ActorKind
from sessions.clock import utcnow
from sessions.i18n import N_
from sessions.models import AssociateProfile, Shopper, User
from sessions.ratelimit import RateLimiter
from web.db import db

GUEST_KEY = "shopper_token"


def current_actor() -> Actor:
    if "actor" not in g:
        g.actor = _load_actor()
    actor: Actor = g.actor
    return actor


SHOW_PASSES = "show_passes"


def show_passes() -> frozenset[int]:
    """The private shows whose access code this browser entered (signed session)."""
    raw = session.get(SHOW_PASSES)
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(x for x in raw if isinstance(x, int))


def remember_show_pass(show_id: int) -> None:
    """Keep the pass to a private show in the signed session (after the right code)."""
    session[SHOW_PASSES] = sorted(show_passes() | {show_id})[-50:]
    session.permanent = True
    g.pop("actor", None)


COHOST_PASSES = "cohost_passes"


def cohost_passes() -> frozenset[int]:
    """The co-host invitations (guest links) this browser accepted (signed session)."""
    raw = session.get(COHOST_PASSES)
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(x for x in raw if isinstance(x, int))


def remember_cohost_pass(cohost_id: int) -> None:
    """This browser is now that invitation's co-host (after accepting the link)."""
    session[COHOST_PASSES] = sorted(cohost_passes() | {cohost_id})[-10:]


INVITEE_PASSES = "invitee_passes"


def invitee_passes() -> dict[int, int]:
    """``{show id: invitee id}``: the personal links this browser took a pass with."""
    raw = session.get(INVITEE_PASSES)
    if not isinstance(raw, dict):
        return {}
    return {
        int(k): v
        for k, v in raw.items()
        if isinstance(k, str) and k.isdigit() and isinstance(v, int)
    }


def remember_invitee_pass(show_id: int, invitee_id: int) -> None:
    """Keep a personal link's pass in the signed session (its invitee, so revoking the
    invitee ends it: ``sessions.shows.invitees.valid_passes`` on each request)."""
    passes = invitee_passes() | {show_id: invitee_id}
    session[INVITEE_PASSES] = {str(k): v for k, v in sorted(passes.items())[-50:]}
    session.permanent = True
    g.pop("actor", None)


def standing_invitee_passes() -> dict[int, int]:
    from sessions.shows.invitees import valid_passes

    held = invitee_passes()
    return valid_passes(db(), held) if held else {}


def _load_actor() -> Actor:
    actor = _load_base_actor()
    passes = show_passes() | frozenset(standing_invitee_passes())
    if passes:
        actor = dataclasses.replace(actor, show_passes=passes)
    cohosting = cohost_passes()
    return dataclasses.replace(actor, cohost_passes=cohosting) if cohosting else actor


# Built once with a parameter: sessions/db.py, "statements built once".
_SHOPPER_BY_KEY = select(Shopper).where(Shopper.token == bindparam("key"))


def _load_base_actor() -> Actor:
    user = signed_in_user()
    if user is not None:
        return actor_for_user(user)
    token = session.get(GUEST_KEY)
    if isinstance(token, str):
        shopper = db().exec(_SHOPPER_BY_KEY, params={"key": token}).first()
        if shopper is None:
            g.unused_guest_key = token  # offer_guest_key need not look again
        elif _alive(shopper):
            g.shopper_expires_at = shopper.expires_at
            return shopper_actor(shopper)
    return ANONYMOUS


def signed_in_user() -> User | None:
    """The staff member of this cookie, if it is still valid: active, and signed in since
    their sessions were last ended. A cookie that is not gets its staff part dropped."""
    user_id = session.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = db().get(User, user_id)
    if is_current(user, session.get("session_version")):
        return user
    session.pop("user_id", None)
    session.pop("session_version", None)
    return None


def is_current(user: User | None, version: object) -> bool:
    return user is not None and user.is_active and version == user.session_version


def actor_for_user(user: User) -> Actor:
    associate_id = None
    profile = db().exec(select(AssociateProfile).where(AssociateProfile.user_id == user.id)).first()
    if profile is not None:
        associate_id = profile.id
    return Actor(
        kind=ROLE_TO_KIND[user.role],
        name=profile.display_name if profile else user.name,
        user_id=user.id,
        brand_id=user.brand_id,
        associate_id=associate_id,
    )


def shopper_actor(shopper: Shopper) -> Actor:
    return Actor(kind=ActorKind.SHOPPER, name=shopper.name or "Guest", shopper_id=shopper.id)


def _alive(shopper: Shopper) -> bool:
    return shopper.expires_at > utcnow()


def _lifetime() -> timedelta:
    return timedelta(days=int(current_app.config.get("GUEST_LIFETIME_DAYS", 30)))


@functools.cache
def _guest_limiter(limit: str) -> RateLimiter:
    return RateLimiter(
        "guests", limit, N_("Too many new visitors from your network; wait %(wait)s s.")
    )


def guest_key() -> str | None:
    """The key this browser was given: its shopper's token, or one not yet used."""
    if "guest_key" in g:  # from an embed token (web/shop/embed.py)
        key: str = g.guest_key
        return key
    token = session.get(GUEST_KEY)
    return token if isinstance(token, str) else None


def offer_guest_key() -> str | None:
    """Give an anonymous browser a guest key in its cookie (no row): its later socket and
    requests then become the same shopper once one of them acts. Staff get none."""
    actor = current_actor()
    if actor.is_staff:
        return None
    key = guest_key()
    if key is None or (actor.kind is ActorKind.ANONYMOUS and _spent(key)):
        key = secrets.token_urlsafe(32)
        session[GUEST_KEY] = key
        session.permanent = True
    return key


def _spent(key: str) -> bool:
    """A key whose shopper has expired: it can stand for nobody again."""
    if g.get("unused_guest_key") == key:  # current_actor found no shopper for it just now
        return False
    return db().exec(select(Shopper.id).where(Shopper.token == key)).first() is not None


def shopper_for_key(key: str | None) -> Actor:
    """The shopper of a guest key, created now if need be (counted against the address)."""
    return _shopper_and_token(key)[0]


def _shopper_and_token(key: str | None) -> tuple[Actor, str]:
    """shopper_for_key, and the token the shopper holds (the key, or a new one)."""
    if key is not None and g.get("unused_guest_key") != key:  # else: looked up just now
        shopper = db().exec(select(Shopper).where(Shopper.token == key)).first()
        if shopper is not None:
            if _alive(shopper):
                return shopper_actor(shopper), shopper.token
            key = None  # expired: refused, and a new guest is made instead
    # End the read first: the limiter may wait on Redis (and on SQLite an open
    # transaction holds the write lock), so no transaction stays open across it.
    db().commit()
    limit = current_app.config.get("GUEST_RATE_LIMIT", "20 per hour")
    _guest_limiter(limit).hit(request.remote_addr or "unknown")
    shopper = Shopper(token=key or secrets.token_urlsafe(32), expires_at=utcnow() + _lifetime())
    try:
        db().add(shopper)
        db().commit()
    except IntegrityError:  # the same key's other request (socket or tab) made it first
        db().rollback()
        g.pop("unused_guest_key", None)
        made = db().exec(select(Shopper).where(Shopper.token == shopper.token)).one()
        return shopper_actor(made), made.token
    g.pop("unused_guest_key", None)
    return shopper_actor(shopper), shopper.token


def touch_shopper(shopper_id: int, expires_at: datetime | None) -> None:
    """Refresh a shopper's expiry on use, at most about once a day (not on every request)."""
    fresh = utcnow() + _lifetime()
    if expires_at is not None and expires_at > fresh - timedelta(days=1):
        return
    shopper = db().get(Shopper, shopper_id)
    if shopper is not None:
        shopper.expires_at = fresh
        db().add(shopper)
        db().commit()


def ensure_shopper() -> Actor:
    """The current guest as a shopper row, created on first need. Staff stay staff."""
    actor = current_actor()
    if actor.shopper_id is not None:
        touch_shopper(actor.shopper_id, g.get("shopper_expires_at"))
    if actor.kind is not ActorKind.ANONYMOUS:
        return actor
    from_embed = "guest_key" in g
    g.actor, token = _shopper_and_token(guest_key())
    # The cookie carries the key (a new one if the old had expired). Set only when it
    # differs: any assignment marks the session changed, and a changed session is signed
    # and sent again (web/cookie_session.py).
    if not from_embed and (session.get(GUEST_KEY) != token or not session.permanent):
        session[GUEST_KEY] = token
        session.permanent = True
    return g.actor


def sign_in(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session["session_version"] = user.session_version
    session.permanent = True
    g.pop("actor", None)


def sign_out() -> None:
    session.clear()
    g.pop("actor", None)
