"""Who is making this request: a signed-in staff member, a guest shopper, or nobody.

Staff: ``session["user_id"]`` and ``session["session_version"]``, which must equal the
user's current version (sign-out, a password change or deactivation raise it, ending
every copy of the cookie at once). Shoppers: ``session["shopper_token"]`` in the same
signed cookie; the row is created the first time a shopper does something that
needs one (adds to bag, chats, books), so browsing creates nothing.
"""

from __future__ import annotations

import secrets

from flask import g, session
from sqlmodel import select

from sessions.access import ANONYMOUS, ROLE_TO_KIND, Actor, ActorKind
from sessions.models import AssociateProfile, Shopper, User
from web.db import db


def current_actor() -> Actor:
    if "actor" not in g:
        g.actor = _load_actor()
    actor: Actor = g.actor
    return actor


def _load_actor() -> Actor:
    user = signed_in_user()
    if user is not None:
        return actor_for_user(user)
    token = session.get("shopper_token")
    if isinstance(token, str):
        shopper = db().exec(select(Shopper).where(Shopper.token == token)).first()
        if shopper is not None:
            return Actor(
                kind=ActorKind.SHOPPER, name=shopper.name or "Guest", shopper_id=shopper.id
            )
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


def ensure_shopper() -> Actor:
    """The current guest as a shopper row, created on first need. Staff stay staff."""
    actor = current_actor()
    if actor.kind is not ActorKind.ANONYMOUS:
        return actor
    shopper = Shopper(token=secrets.token_urlsafe(32))
    db().add(shopper)
    db().commit()
    session["shopper_token"] = shopper.token
    session.permanent = True
    g.actor = Actor(kind=ActorKind.SHOPPER, name="Guest", shopper_id=shopper.id)
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
