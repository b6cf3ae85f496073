"""A returning shopper recognised on another device by a link sent to their e-mail.

No password: the shopper gives an e-mail on the thread's panel ("Continue on another
device / Recognise me"); a one-time link, valid the brand's ``signin_link_minutes``
(default 30), is e-mailed. Opening it shows a page with a button (the GET changes
nothing); the POST makes that browser the same shopper (its cookie carries the
shopper's token), so the thread and the bag are there.

Whom the link signs in as: the shopper whose e-mail is *verified* (someone opened a
link sent to it before), else the shopper who asked. An e-mail typed but never
confirmed decides nothing, so nobody can plant their own identity under another
person's address. The row is committed first and sent after (the outbox, as for
appointment e-mails: a conditional ``UPDATE`` claims it, so it goes once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sessions import outbox
from sessions.access import Actor, access_signin_link
from sessions.accounts import normalise_email
from sessions.clock import utcnow
from sessions.errors import Conflict, NotFound
from sessions.i18n import N_
from sessions.mail import Mailer, signin_message
from sessions.models import Brand, Shopper, SignInLink, Thread
from sessions.ratelimit import RateLimiter

log = logging.getLogger(__name__)
_SALT = "vitrine.signin"
MAX_ATTEMPTS = 8
# Per address typed: the owner's inbox is not flooded; per client: no one mails the world.
per_email = RateLimiter(
    "signin-email",
    "3 per 15 minutes",
    N_("A link was sent to this address just now; wait %(wait)s s."),
)
per_client = RateLimiter(
    "signin-client", "10 per hour", N_("Too many sign-in links asked from here; wait %(wait)s s.")
)

State = Literal["ready", "used", "expired"]


@dataclass(frozen=True)
class Requested:
    link: SignInLink
    minutes: int


def link_token(secret: str, link: SignInLink) -> str:
    return str(URLSafeSerializer(secret, salt=_SALT).dumps({"l": link.id}))


def link_path(secret: str, link: SignInLink) -> str:
    return f"/signin/{link_token(secret, link)}"


def link_from_token(db: Session, secret: str, token: str) -> SignInLink:
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        raise NotFound(
            N_("This sign-in link is not valid. Use the link from your e-mail.")
        ) from None
    link_id = data.get("l") if isinstance(data, dict) else None
    link = db.get(SignInLink, link_id) if isinstance(link_id, int) else None
    if link is None:
        raise NotFound(N_("This sign-in link is not valid. Use the link from your e-mail."))
    return link


def state_of(link: SignInLink, now: datetime | None = None) -> State:
    if link.used_at is not None:
        return "used"
    if link.expires_at <= (now or utcnow()):
        return "expired"
    return "ready"


def verified_owner(db: Session, email: str) -> Shopper | None:
    """The shopper who last proved they read this e-mail."""
    return db.exec(
        select(Shopper)
        .where(Shopper.email == email, col(Shopper.email_verified_at).is_not(None))
        .order_by(col(Shopper.email_verified_at).desc())
    ).first()


def do_request_link(
    db: Session,
    actor: Actor,
    brand: Brand,
    email: object,
    *,
    client: str,
    now: datetime | None = None,
) -> Requested:
    """Store the link (sent after the commit by :func:`run_due`)."""
    access_signin_link(actor)
    address = normalise_email(email if isinstance(email, str) else "")
    assert actor.shopper_id is not None, "the web side makes the guest a shopper first"
    db.commit()  # no transaction stays open across the limiter (Redis)
    per_client.check(client)
    per_email.hit(address)
    per_client.hit(client)
    now = now or utcnow()
    owner = verified_owner(db, address)
    assert brand.id is not None
    link = SignInLink(
        brand_id=brand.id,
        shopper_id=owner.id if owner is not None and owner.id else actor.shopper_id,
        email=address,
        created_at=now,
        expires_at=now + timedelta(minutes=brand.signin_link_minutes),
    )
    db.add(link)
    db.commit()
    return Requested(link=link, minutes=brand.signin_link_minutes)


def do_use_link(
    db: Session, actor: Actor, link: SignInLink, *, now: datetime | None = None
) -> Shopper:
    """Spend the link (once, before it expires) and return the shopper this browser becomes."""
    access_signin_link(actor)
    now = now or utcnow()
    result = db.exec(
        update(SignInLink)
        .where(
            col(SignInLink.id) == link.id,
            col(SignInLink.used_at).is_(None),
            col(SignInLink.expires_at) > now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:
        db.rollback()
        db.refresh(link)
        if state_of(link, now) == "used":
            raise Conflict(N_("This sign-in link has already been used."), code="link_used")
        raise Conflict(N_("This sign-in link has expired."), code="link_expired")
    shopper = db.get(Shopper, link.shopper_id)
    if shopper is None:
        db.rollback()
        raise NotFound(N_("This sign-in link is not valid any more."))
    shopper.email = link.email
    shopper.email_verified_at = now
    shopper.expires_at = max(shopper.expires_at, now + timedelta(days=30))
    db.add(shopper)
    db.commit()
    from sessions.service import activity  # the thread keeps the moment

    activity.note_signed_in(db, link.brand_id, link.shopper_id, now=now)
    return shopper


# --- the outbox ----------------------------------------------------------------------------


def compose(db: Session, link: SignInLink, public_url: str, secret: str) -> EmailMessage | None:
    if state_of(link) != "ready":
        return None  # used or expired before it went: nothing to say
    brand = db.get(Brand, link.brand_id)
    if brand is None:
        return None
    url = public_url.rstrip("/") + link_path(secret, link)
    return signin_message(
        brand_name=brand.name,
        email=link.email,
        url=url,
        minutes=brand.signin_link_minutes,
        language=_language_of(db, link),
    )


def _language_of(db: Session, link: SignInLink) -> str:
    """The shopper's chosen language, else their conversation's with the brand."""
    shopper = db.get(Shopper, link.shopper_id) if link.shopper_id else None
    if shopper is not None and shopper.language:
        return shopper.language
    thread = db.exec(
        select(Thread).where(Thread.brand_id == link.brand_id, Thread.shopper_id == link.shopper_id)
    ).first()
    return thread.language if thread is not None else "en"


def deliver(
    engine: Engine, mailer: Mailer, link_id: int, now: datetime, public_url: str, secret: str
) -> bool:
    """Claim, compose and send one link (sessions/outbox.py). True if this call sent it."""
    return outbox.deliver(
        engine,
        mailer,
        SignInLink,
        link_id,
        now,
        lambda db, link: compose(db, link, public_url, secret),  # None: used or expired, done
        lambda link: f"<signin-{link.id}@vitrine.local>",
        "sign-in link",
        logger=log,
    )


def due_ids(engine: Engine, now: datetime, limit: int = 100) -> list[int]:
    return outbox.link_ids(engine, SignInLink, now, max_attempts=MAX_ATTEMPTS, limit=limit)


def run_due(
    engine: Engine, mailer: Mailer, public_url: str, secret: str, now: datetime | None = None
) -> int:
    """Send every link not sent yet; returns how many this call sent."""
    now = now or utcnow()
    return sum(deliver(engine, mailer, i, now, public_url, secret) for i in due_ids(engine, now))
