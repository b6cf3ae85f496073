"""Per-invitee links to a private show: a VIP preview for a maison's best clients.

The brand's admin adds invitees (name and e-mail, one at a time or a pasted CSV); each
gets an e-mail with a personal link ``/invitations/<token>``. The token is 256 random
bits, stored only as its SHA-256 (``ShowInvitee.token_hash``): a database leak gives no
link. The link's page (GET) shows the show and a button and changes nothing (mail
scanners open links); the button (POST) takes a pass — kept in the browser's signed
session as the invitee's id — and is logged (``ShowInviteeUse``: when, which browser),
so one invitee may watch on a phone and a laptop and the brand sees both. Revoking the
invitee ends the link and every pass taken with it: the web layer checks the row on
each request (``valid_passes``). The brand sees who was invited, mailed, opened the link
(took a pass) and watched (joined while the show was live). Gate: ``access_show_invitees``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, col, select

from sessions.access import Actor, access_show_invitees
from sessions.accounts import normalise_email
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, DomainError, InvalidInput, NotFound
from sessions.mail import Mailer, one_line
from sessions.models import Brand, Show, ShowInvitee, ShowInviteeUse, ShowStatus

MAX_INVITEES = 500  # one paste; a brand's list of best clients, not a mailing list
MAX_NAME = 120


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_invitees(text: str) -> list[tuple[str, str]]:
    """``[(name, email)]`` from what the admin typed or pasted: one invitee a line,
    ``Name, e-mail`` (a CSV, a header line allowed), ``Name <e-mail>`` or the address
    alone. A bad line is refused with its number; nothing is half-kept."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, cells in enumerate(csv.reader(io.StringIO(text.strip())), start=1):
        cells = [c.strip() for c in cells if c.strip()]
        if not cells:
            continue
        if number == 1 and any(c.lower() in ("email", "e-mail", "mail") for c in cells):
            continue  # a CSV's header
        name, email = _name_and_email(cells)
        try:
            email = normalise_email(email)
        except DomainError:
            raise InvalidInput(
                N_("Line %(n)s: “%(email)s” is not an e-mail address."),
                params={"n": number, "email": email},
                field="invitees",
            ) from None
        if len(name) > MAX_NAME:
            raise InvalidInput(
                N_("Line %(n)s: the name is too long."), params={"n": number}, field="invitees"
            )
        if email not in seen:
            seen.add(email)
            rows.append((name or email.split("@")[0], email))
    if not rows:
        raise InvalidInput(N_("Add at least one invitee: a name and an e-mail."), field="invitees")
    if len(rows) > MAX_INVITEES:
        raise InvalidInput(
            N_("At most %(n)s invitees at a time."), params={"n": MAX_INVITEES}, field="invitees"
        )
    return rows


def _name_and_email(cells: list[str]) -> tuple[str, str]:
    if len(cells) == 1:
        cell = cells[0]
        if "<" in cell and cell.endswith(">"):
            name, _sep, email = cell[:-1].partition("<")
            return name.strip().strip('"'), email.strip()
        return "", cell
    at = next((i for i, c in enumerate(cells) if "@" in c), len(cells) - 1)
    name = " ".join(c for i, c in enumerate(cells) if i != at)
    return name, cells[at]


@dataclass(frozen=True)
class Invited:
    invitee: ShowInvitee
    token: str  # the link's, known only now: it goes in the e-mail and is not kept


def do_invite(
    db: Session, actor: Actor, show: Show, rows: Iterable[tuple[str, str]]
) -> tuple[list[Invited], int]:
    """Add the invitees not yet on the show's list; ``(new ones with their tokens, how
    many were already invited)``. The show must be private (else a link is pointless)."""
    access_show_invitees(actor, show)
    if not show.private:
        raise Conflict(N_("Make the show private first: invitations are for private shows."))
    if show.status in (ShowStatus.CANCELLED, ShowStatus.ENDED, ShowStatus.REPLAY_HIDDEN):
        raise Conflict(N_("This show is over: there is nothing to invite to."))
    known = set(db.exec(select(ShowInvitee.email).where(ShowInvitee.show_id == show.id)).all())
    made: list[Invited] = []
    already = 0
    assert show.id is not None
    for name, email in rows:
        if email in known:
            already += 1
            continue
        token = secrets.token_urlsafe(32)
        invitee = ShowInvitee(
            show_id=show.id,
            name=name,
            email=email,
            token_hash=token_hash(token),
            invited_by=actor.user_id,
        )
        db.add(invitee)
        made.append(Invited(invitee, token))
        known.add(email)
    db.commit()
    return made, already


def do_revoke_invitee(db: Session, actor: Actor, show: Show, invitee_id: int) -> ShowInvitee:
    access_show_invitees(actor, show)
    invitee = db.get(ShowInvitee, invitee_id)
    if invitee is None or invitee.show_id != show.id:
        raise NotFound(N_("No such invitee of this show."))
    if invitee.revoked_at is None:
        invitee.revoked_at = utcnow()
        db.add(invitee)
        db.commit()
    return invitee


def invitee_by_token(db: Session, token: str) -> ShowInvitee:
    """The invitee of a link, or NotFound (unknown, or revoked: the same words)."""
    if not 20 <= len(token) <= 100:
        raise NotFound(N_("This invitation link is not valid (it may have been withdrawn)."))
    invitee = db.exec(
        select(ShowInvitee).where(ShowInvitee.token_hash == token_hash(token))
    ).first()
    if invitee is None or invitee.revoked_at is not None:
        raise NotFound(N_("This invitation link is not valid (it may have been withdrawn)."))
    return invitee


def do_take_pass(db: Session, invitee: ShowInvitee, *, user_agent: str, client: str) -> None:
    """The link's button: one more device of the invitee's may watch; logged."""
    now = utcnow()
    assert invitee.id is not None
    db.add(
        ShowInviteeUse(
            invitee_id=invitee.id, user_agent=user_agent[:300], client=(client or "")[:64]
        )
    )
    db.exec(
        update(ShowInvitee)
        .where(col(ShowInvitee.id) == invitee.id)
        .values(passes=ShowInvitee.passes + 1)
        .execution_options(synchronize_session=False)
    )
    db.exec(
        update(ShowInvitee)
        .where(col(ShowInvitee.id) == invitee.id, col(ShowInvitee.opened_at).is_(None))
        .values(opened_at=now)
        .execution_options(synchronize_session=False)
    )
    db.commit()


def valid_passes(db: Session, passes: dict[int, int]) -> dict[int, int]:
    """Of ``{show id: invitee id}`` held by a browser, those whose invitee still stands
    (not revoked, of that show)."""
    if not passes:
        return {}
    rows = db.exec(
        select(ShowInvitee.id, ShowInvitee.show_id).where(
            col(ShowInvitee.id).in_(list(passes.values())), col(ShowInvitee.revoked_at).is_(None)
        )
    ).all()
    standing = {invitee_id: show_id for invitee_id, show_id in rows}
    return {s: i for s, i in passes.items() if standing.get(i) == s}


def note_watched(db: Session, invitee_id: int) -> None:
    """A pass of this invitee joined the show while it was live (first time kept)."""
    db.exec(
        update(ShowInvitee)
        .where(col(ShowInvitee.id) == invitee_id, col(ShowInvitee.watched_at).is_(None))
        .values(watched_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.commit()


def invitees_of(db: Session, actor: Actor, show: Show) -> list[dict[str, Any]]:
    """The show's list for its brand: who was invited, mailed, opened, watched."""
    access_show_invitees(actor, show)
    rows = db.exec(
        select(ShowInvitee).where(ShowInvitee.show_id == show.id).order_by(col(ShowInvitee.id))
    ).all()
    return [invitee_out(row) for row in rows]


def invitee_out(row: ShowInvitee) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": row.id,
        "name": row.name,
        "email": row.email,
        "invited_at": iso(row.created_at),
        "mailed_at": iso(row.mailed_at),
        "opened_at": iso(row.opened_at),
        "passes": row.passes,
        "watched_at": iso(row.watched_at),
        "revoked_at": iso(row.revoked_at),
    }


def invitation_message(brand: Brand, show: Show, invitee: ShowInvitee, url: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = Address(display_name=invitee.name, addr_spec=invitee.email)
    message["Subject"] = one_line(
        _("%(brand)s invites you: %(title)s", brand=brand.name, title=show.title)
    )
    message.set_content(
        _(
            "Dear %(name)s,\n\n%(brand)s invites you to a private live show, “%(title)s”.\n\n"
            "Your personal link (for you alone; it opens the show on each of your devices):\n"
            "%(url)s\n\n%(brand)s\n",
            name=invitee.name,
            brand=brand.name,
            title=show.title,
            url=url,
        )
    )
    return message


def send_invitations(
    db: Session, mailer: Mailer, brand: Brand, show: Show, made: list[Invited], public_url: str
) -> int:
    """E-mail each new invitee their link; a failed send leaves ``mailed_at`` empty (the
    admin's list says "not sent"). Returns how many went."""
    sent = 0
    for item in made:
        url = f"{public_url.rstrip('/')}/invitations/{item.token}"
        try:
            mailer.send(invitation_message(brand, show, item.invitee, url))
        except OSError:
            continue
        item.invitee.mailed_at = utcnow()
        db.add(item.invitee)
        sent += 1
    db.commit()
    return sent
