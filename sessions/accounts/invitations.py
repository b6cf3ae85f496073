"""Staff invitations: a brand admin names someone; they set their own password from a link.

No admin ever types a colleague's password. The invitation row holds who is invited
(name, e-mail, role, stores); the link, e-mailed after the commit through the outbox,
is single-use and expires (``INVITATION_DAYS``); its token is stored only as a hash
(sessions/accounts/tokens.py). Opening the link shows the set-password page (the GET
changes nothing); the POST makes the account and signs that browser in. A resend writes
a new link (the old one stops working); a revoke ends it.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from sessions.access import Actor, access_manage_staff
from sessions.accounts import (
    audit,
    check_password_strength,
    do_create_associate,
    do_create_user,
    normalise_email,
    outbox,
)
from sessions.accounts.tokens import digest, make_token, new_salt
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, InvalidInput, NotFound
from sessions.mail import Mailer
from sessions.models import Role, StaffInvitation, Store, User

PURPOSE = "invite"
INVITATION_DAYS = 7
INVITABLE = (Role.ASSOCIATE, Role.BRAND_ADMIN)

State = Literal["ready", "accepted", "revoked", "expired"]


def token_of(secret: str, invitation: StaffInvitation) -> str:
    assert invitation.id is not None
    return make_token(secret, PURPOSE, invitation.id, invitation.salt)


def path_of(secret: str, invitation: StaffInvitation) -> str:
    return f"/invitation/{token_of(secret, invitation)}"


def _rekey(invitation: StaffInvitation, secret: str) -> None:
    invitation.salt = new_salt()
    invitation.token_hash = digest(token_of(secret, invitation))


def state_of(invitation: StaffInvitation, now: datetime | None = None) -> State:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or utcnow()):
        return "expired"
    return "ready"


def invitation_for_token(db: Session, secret: str, token: str) -> StaffInvitation:
    invitation = db.exec(
        select(StaffInvitation).where(StaffInvitation.token_hash == digest(token[:200]))
    ).first()
    if invitation is None or not hmac.compare_digest(token_of(secret, invitation), token):
        raise NotFound(N_("This invitation link is not valid. Use the link from your e-mail."))
    return invitation


def pending(db: Session, brand_id: int) -> list[StaffInvitation]:
    """Invitations not accepted nor revoked (expired ones too: the admin may resend them)."""
    return list(
        db.exec(
            select(StaffInvitation)
            .where(
                StaffInvitation.brand_id == brand_id,
                col(StaffInvitation.accepted_at).is_(None),
                col(StaffInvitation.revoked_at).is_(None),
            )
            .order_by(col(StaffInvitation.created_at).desc())
        ).all()
    )


def _check_email_free(db: Session, email: str, now: datetime) -> None:
    if db.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(N_("This e-mail already belongs to a staff account."), field="email")
    waiting = db.exec(
        select(StaffInvitation).where(
            StaffInvitation.email == email,
            col(StaffInvitation.accepted_at).is_(None),
            col(StaffInvitation.revoked_at).is_(None),
            col(StaffInvitation.expires_at) > now,
        )
    ).first()
    if waiting is not None:
        raise Conflict(
            N_("An invitation to this e-mail is already waiting: resend it from the list."),
            field="email",
        )


def _brand_stores(db: Session, brand_id: int, store_ids: list[int]) -> list[int]:
    found = db.exec(
        select(Store.id).where(col(Store.id).in_(store_ids), Store.brand_id == brand_id)
    ).all()
    return sorted(i for i in found if i is not None)


def do_invite(
    db: Session,
    actor: Actor,
    *,
    brand_id: int,
    email: str,
    name: str,
    role: Role,
    secret: str,
    store_ids: list[int] | None = None,
    languages: str = "en",
    specialities: str = "",
    locale: str = "en",
    now: datetime | None = None,
) -> StaffInvitation:
    """Store the invitation; the outbox sends its e-mail after the commit."""
    access_manage_staff(actor, brand_id)
    now = now or utcnow()
    address = normalise_email(email)
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput(N_("Enter a name (at most 120 characters)."), field="name")
    if role not in INVITABLE:
        raise InvalidInput(N_("Choose a role."), field="role")
    stores = _brand_stores(db, brand_id, list(store_ids or []))
    if role is Role.ASSOCIATE and (not stores or len(stores) != len(set(store_ids or []))):
        raise InvalidInput(N_("Choose at least one store of this brand."), field="store_ids")
    _check_email_free(db, address, now)
    invitation = StaffInvitation(
        brand_id=brand_id,
        email=address,
        name=name,
        role=role,
        store_ids=",".join(map(str, stores)) if role is Role.ASSOCIATE else "",
        languages=languages.strip()[:120] or "en",
        specialities=specialities.strip()[:255],
        invited_by=actor.user_id,
        locale=locale[:16],
        salt="",
        token_hash=new_salt(),  # a unique placeholder until the id is known
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.add(invitation)
    db.flush()
    _rekey(invitation, secret)
    db.add(invitation)
    db.commit()
    audit.note(db, _action("invited", actor, invitation))
    return invitation


def _action(name: str, actor: Actor | None, invitation: StaffInvitation) -> audit.AccountAction:
    return audit.AccountAction(
        action=name,
        subject_user_id=invitation.user_id,
        brand_id=invitation.brand_id,
        actor_user_id=actor.user_id if actor else invitation.user_id,
        detail={"invitation_id": invitation.id, "email": invitation.email},
    )


def _check_open(invitation: StaffInvitation) -> None:
    if invitation.accepted_at is not None:
        raise Conflict(N_("This invitation has already been accepted."), code="accepted")
    if invitation.revoked_at is not None:
        raise Conflict(N_("This invitation was revoked."), code="revoked")


def do_resend(
    db: Session,
    actor: Actor,
    invitation: StaffInvitation,
    *,
    secret: str,
    now: datetime | None = None,
) -> StaffInvitation:
    """A new link (the old one stops working), valid for the full period again."""
    access_manage_staff(actor, invitation.brand_id)
    _check_open(invitation)
    now = now or utcnow()
    _rekey(invitation, secret)
    invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
    invitation.sent_at = invitation.claimed_at = None
    invitation.attempts = 0
    # Written even when they look unchanged: the outbox may have marked the old link's
    # e-mail sent after this row was read, and an UPDATE without them would keep that mark
    # and never send the new link.
    for column in ("sent_at", "claimed_at", "attempts"):
        flag_modified(invitation, column)
    db.add(invitation)
    db.commit()
    audit.note(db, _action("invitation_resent", actor, invitation))
    return invitation


def do_revoke(
    db: Session, actor: Actor, invitation: StaffInvitation, *, now: datetime | None = None
) -> None:
    access_manage_staff(actor, invitation.brand_id)
    _check_open(invitation)
    invitation.revoked_at = now or utcnow()
    db.add(invitation)
    db.commit()
    audit.note(db, _action("invitation_revoked", actor, invitation))


def check_usable(invitation: StaffInvitation, now: datetime | None = None) -> None:
    state = state_of(invitation, now)
    if state == "accepted":
        raise Conflict(N_("This invitation has already been used. Sign in instead."))
    if state == "revoked":
        raise Conflict(N_("This invitation was withdrawn. Ask your brand admin for a new one."))
    if state == "expired":
        raise Conflict(N_("This invitation has expired. Ask your brand admin to resend it."))


def do_accept(
    db: Session, invitation: StaffInvitation, *, password: str, now: datetime | None = None
) -> User:
    """Spend the invitation (once, before it expires) and make the account with this password."""
    now = now or utcnow()
    check_usable(invitation, now)
    check_password_strength(password)
    spent = db.exec(
        update(StaffInvitation)
        .where(
            col(StaffInvitation.id) == invitation.id,
            col(StaffInvitation.accepted_at).is_(None),
            col(StaffInvitation.revoked_at).is_(None),
            col(StaffInvitation.expires_at) > now,
        )
        .values(accepted_at=now)
    )
    if spent.rowcount != 1:  # another tab or node used it first
        db.rollback()
        db.refresh(invitation)
        check_usable(invitation, now)
        raise Conflict(N_("This invitation has already been used. Sign in instead."))
    try:
        user = _make_account(db, invitation, password)
    except Conflict:
        db.rollback()
        raise Conflict(
            N_("This e-mail already belongs to a staff account. Sign in instead."), field="email"
        ) from None
    invitation.user_id = user.id
    db.add(invitation)
    db.commit()
    audit.note(db, _action("invitation_accepted", None, invitation))
    return user


def _make_account(db: Session, invitation: StaffInvitation, password: str) -> User:
    if invitation.role is Role.ASSOCIATE:
        wanted = [int(s) for s in invitation.store_ids.split(",") if s.isdigit()]
        profile = do_create_associate(
            db,
            brand_id=invitation.brand_id,
            email=invitation.email,
            name=invitation.name,
            password=password,
            store_ids=_brand_stores(db, invitation.brand_id, wanted),  # a store may have closed
            languages=invitation.languages,
            specialities=invitation.specialities,
        )
        user = db.get(User, profile.user_id)
        assert user is not None
        return user
    return do_create_user(
        db,
        email=invitation.email,
        name=invitation.name,
        password=password,
        role=invitation.role,
        brand_id=invitation.brand_id,
    )


def run_due(
    engine: Engine,
    mailer: Mailer,
    compose: outbox.Compose,
    now: datetime | None = None,
) -> int:
    """Send every invitation e-mail not sent yet (composed by the caller, in its language)."""
    return outbox.run_due(engine, mailer, StaffInvitation, compose, now or utcnow())


def message_ready(invitation: StaffInvitation) -> bool:
    """Whether an e-mail still has something to say (the outbox's composers ask)."""
    return state_of(invitation) == "ready"
