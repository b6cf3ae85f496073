"""A show's co-host: a second camera and voice beside the host's.

The host (or the brand's admin) invites one co-host at a time: another associate of the
brand, picked from a list, or a guest by a link. The link carries a random token; only
its SHA-256 is stored, it expires after ``LINK_TTL`` and opens once — accepting it is a
POST, claimed with a conditional UPDATE, so two browsers racing on one link get one
co-host. The co-host's page publishes on the relay's co-host slot (``sessions.grants``:
``COHOST_SLOT``; ``PUBLISHER_SLOTS`` = host + one co-host); the host mutes them (the
relay stops forwarding their sound) or removes them (the relay closes their publisher,
and the row never publishes again: the same link cannot bring them back).

Every change publishes ``cohost`` to the show's room with the co-host's whole state, so
viewers' labels, the host's console and the co-host's own page follow by push. An
associate invited is told on their console wherever they are (``cohost_invitation`` to
``associate:<id>``, with a link to their co-host page), and told again when the
invitation is taken back (``cohost_invitation_withdrawn``). Talking
to the relay is the web layer's part (``web/relay.py``), after the commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from sessions.access import (
    Actor,
    access_cohost_link,
    access_cohost_manage,
    access_cohost_stage,
    can_see_cohost_invitation,
    is_cohost,
)
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, InvalidInput, NotFound
from sessions.events import publish
from sessions.grants import PUBLISHER_SLOTS
from sessions.models import (
    AssociateProfile,
    CohostKind,
    CohostStatus,
    LiveSession,
    Show,
    ShowCohost,
    ShowStatus,
)
from sessions.shows.lifecycle import host_ids, live_session_for_show

# Co-hosts on air at once beside the host (the relay's publisher slots, less the host's).
MAX_COHOSTS = PUBLISHER_SLOTS - 1
LINK_TTL = timedelta(hours=24)
MAX_NAME = 80
ACTIVE = (CohostStatus.INVITED, CohostStatus.ACCEPTED)
INVITABLE = (ShowStatus.DRAFT, ShowStatus.SCHEDULED, ShowStatus.LIVE)


def hash_token(token: str) -> str:
    """The stored form of a link's token: 32 random bytes need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


# Built once with a parameter: sessions/db.py, "statements built once".
_CURRENT_COHOST = (
    select(ShowCohost)
    .where(ShowCohost.show_id == bindparam("show"))
    .where(col(ShowCohost.status).in_(ACTIVE))
    .order_by(col(ShowCohost.id).desc())
)


def current_cohost(db: Session, show: Show) -> ShowCohost | None:
    """The show's co-host invited or accepted now (at most one), if any."""
    return db.exec(_CURRENT_COHOST, params={"show": show.id}).first()


def cohost_in_room(db: Session, actor: Actor, show_id: int) -> ShowCohost | None:
    """The show's co-host row if this actor is that co-host (their page joining the room:
    it joins as the co-host, not as a viewer), else None."""
    show = db.get(Show, show_id)
    cohost = current_cohost(db, show) if show is not None else None
    return cohost if cohost is not None and is_cohost(actor, cohost) else None


def cohost_or_404(db: Session, cohost_id: int) -> ShowCohost:
    cohost = db.get(ShowCohost, cohost_id)
    if cohost is None:
        raise NotFound(N_("No co-host invitation with id %(id)s."), params={"id": cohost_id})
    return cohost


def find_by_token(db: Session, token: str) -> ShowCohost | None:
    if not token or len(token) > 100:
        return None
    return db.exec(select(ShowCohost).where(ShowCohost.token_hash == hash_token(token))).first()


def cohost_state(cohost: ShowCohost | None) -> dict[str, Any] | None:
    """What the room is told of the co-host (the ``cohost`` event's payload)."""
    if cohost is None or cohost.id is None:
        return None
    return {
        "cohost_id": cohost.id,
        "name": cohost.display_name,
        "invited_as": cohost.kind.value,
        "status": cohost.status.value,
        "on_air": cohost.on_air,
        "muted": cohost.muted,
    }


def show_cohost_state(db: Session, show_id: int) -> dict[str, Any] | None:
    """The co-host part of a show room's state, for a page joining the room."""
    show = db.get(Show, show_id)
    return cohost_state(current_cohost(db, show)) if show is not None else None


def host_label(db: Session, show: Show) -> str:
    """The name under the host's picture: the show's first host's display name."""
    hosts = sorted(host_ids(db, show))
    profile = db.get(AssociateProfile, hosts[0]) if hosts else None
    return profile.display_name if profile is not None else ""


def associates_to_invite(db: Session, show: Show) -> list[AssociateProfile]:
    """The brand's associates who are not this show's hosts (the console's list)."""
    hosts = host_ids(db, show)
    profiles = db.exec(
        select(AssociateProfile)
        .where(AssociateProfile.brand_id == show.brand_id)
        .order_by(col(AssociateProfile.id))
    ).all()
    return [p for p in profiles if p.id not in hosts]


def associate_name(profile: AssociateProfile) -> str:
    return profile.display_name[:MAX_NAME]


def stage_path(cohost_id: int) -> str:
    """The co-host's page (``web/cohost/views.py``: ``cohost.stage``)."""
    return f"/cohost/stage/{cohost_id}"


def invitation(show: Show, cohost: ShowCohost) -> dict[str, Any]:
    """What an associate invited to co-host is told: the ``cohost_invitation`` payload."""
    return {
        "show_id": show.id or 0,
        "cohost_id": cohost.id or 0,
        "title": show.title,
        "url": stage_path(cohost.id or 0),
    }


def invitations_for(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """The co-host invitations standing for this associate (their console lists them
    on every page; pushes add and take them away after)."""
    if actor.associate_id is None:
        return []
    rows = db.exec(
        select(ShowCohost, Show)
        .join(Show, col(Show.id) == ShowCohost.show_id)
        .where(ShowCohost.kind == CohostKind.ASSOCIATE)
        .where(ShowCohost.associate_id == actor.associate_id)
        .where(col(ShowCohost.status).in_(ACTIVE))
        .where(col(Show.status).in_(INVITABLE))
        .order_by(col(ShowCohost.id))
    ).all()
    return [invitation(show, c) for c, show in rows if can_see_cohost_invitation(actor, c)]


def tell_associate(db: Session, cohost: ShowCohost, *, withdrawn: bool) -> None:
    """The invited associate's consoles: the invitation, or that it is taken back (the
    co-host removed, or the show ended or cancelled: ``lifecycle``)."""
    if cohost.kind is not CohostKind.ASSOCIATE or cohost.associate_id is None:
        return
    show = db.get(Show, cohost.show_id)
    assert show is not None
    audience = f"associate:{cohost.associate_id}"
    if withdrawn:
        ids = {"show_id": show.id or 0, "cohost_id": cohost.id or 0}
        publish("cohost_invitation_withdrawn", None, audience, **ids)
    else:
        publish("cohost_invitation", None, audience, **invitation(show, cohost))


def _announce(db: Session, cohost: ShowCohost) -> None:
    show = db.get(Show, cohost.show_id)
    assert show is not None
    live = live_session_for_show(db, show)
    state = cohost_state(cohost)
    assert state is not None
    publish("cohost", live.room, **state)


def _invitee(
    db: Session, show: Show, associate_id: int | None, guest_name: str | None
) -> AssociateProfile | None:
    """The associate invited, or None for a guest whose name is checked here."""
    if associate_id is not None:
        profile = db.get(AssociateProfile, associate_id)
        if profile is None or profile.brand_id != show.brand_id:
            raise InvalidInput("Pick an associate of this brand.", field="associate_id")
        if associate_id in host_ids(db, show):
            raise InvalidInput("This associate already hosts the show.", field="associate_id")
        return profile
    name = (guest_name or "").strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(
            N_("The guest's name is 1 to %(n)s characters."),
            params={"n": MAX_NAME},
            field="guest_name",
        )
    return None


def do_invite_cohost(
    db: Session,
    actor: Actor,
    show: Show,
    *,
    associate_id: int | None = None,
    guest_name: str | None = None,
    now: datetime | None = None,
) -> tuple[ShowCohost, str | None]:
    """Invite an associate of the brand (ready at once: they sign in to co-host) or a
    guest (returns the link's token, shown once to the inviter)."""
    access_cohost_manage(actor, show, host_ids(db, show))
    profile = _invitee(db, show, associate_id, guest_name)
    if show.status not in INVITABLE:
        raise Conflict("This show is over: it takes no co-host.", code="show_over")
    if current_cohost(db, show) is not None:
        raise Conflict(
            N_("A show has at most %(n)s co-host: remove the current one first."),
            params={"n": MAX_COHOSTS},
            code="cohost_taken",
        )
    now = now or utcnow()
    token: str | None = None
    if profile is not None:
        cohost = ShowCohost(
            show_id=show.id or 0,
            kind=CohostKind.ASSOCIATE,
            associate_id=associate_id,
            display_name=associate_name(profile),
            status=CohostStatus.ACCEPTED,
            expires_at=now + LINK_TTL,
            invited_by_user_id=actor.user_id,
        )
    else:
        token = secrets.token_urlsafe(32)
        cohost = ShowCohost(
            show_id=show.id or 0,
            kind=CohostKind.GUEST,
            display_name=(guest_name or "").strip(),
            token_hash=hash_token(token),
            expires_at=now + LINK_TTL,
            invited_by_user_id=actor.user_id,
        )
    db.add(cohost)
    db.commit()
    _announce(db, cohost)
    tell_associate(db, cohost, withdrawn=False)
    return cohost, token


def do_accept_cohost(db: Session, token: str, *, now: datetime | None = None) -> ShowCohost:
    """Spend a guest link: from now on this browser (its signed session, the web layer)
    is the co-host. A link accepted, expired or withdrawn is refused (403)."""
    now = now or utcnow()
    cohost = access_cohost_link(find_by_token(db, token), now)
    claimed = db.execute(
        update(ShowCohost)
        .where(col(ShowCohost.id) == cohost.id)
        .where(col(ShowCohost.used_at).is_(None))
        .where(col(ShowCohost.status) == CohostStatus.INVITED)
        .values(used_at=now, status=CohostStatus.ACCEPTED)
    )
    db.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This invitation link has already been used.", code="cohost_link_used")
    db.refresh(cohost)
    _announce(db, cohost)
    return cohost


def do_set_cohost_on_air(db: Session, actor: Actor, cohost: ShowCohost, on_air: bool) -> None:
    """The co-host's page says their camera reached the relay, or left it."""
    access_cohost_stage(actor, cohost)
    if cohost.on_air == on_air:
        return
    cohost.on_air = on_air
    db.add(cohost)
    db.commit()
    _announce(db, cohost)


def _managed(db: Session, actor: Actor, cohost: ShowCohost) -> Show:
    show = db.get(Show, cohost.show_id)
    assert show is not None
    access_cohost_manage(actor, show, host_ids(db, show))
    if cohost.status not in ACTIVE:
        raise Conflict("This co-host has already left the show.", code="cohost_gone")
    return show


def do_mute_cohost(db: Session, actor: Actor, cohost: ShowCohost, muted: bool) -> LiveSession:
    """Silence the co-host for viewers, or give them their voice back. Returns the live
    session, whose relay room the web layer then tells."""
    show = _managed(db, actor, cohost)
    cohost.muted = muted
    db.add(cohost)
    db.commit()
    _announce(db, cohost)
    return live_session_for_show(db, show)


def do_remove_cohost(db: Session, actor: Actor, cohost: ShowCohost) -> LiveSession:
    """Take the co-host off the show for good (an invitation not yet accepted is
    withdrawn). Their link and their page no longer open the co-host camera."""
    show = _managed(db, actor, cohost)
    cohost.status = (
        CohostStatus.REMOVED if cohost.status is CohostStatus.ACCEPTED else CohostStatus.WITHDRAWN
    )
    cohost.on_air = False
    db.add(cohost)
    db.commit()
    _announce(db, cohost)
    tell_associate(db, cohost, withdrawn=True)
    return live_session_for_show(db, show)
