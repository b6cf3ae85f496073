"""Messages left when nobody is there, and the associate's answer by e-mail."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from sessions.accounts import normalise_email
from sessions.clock import as_utc, utcnow
from sessions.errors import N_, Conflict, InvalidInput, ServiceUnavailable
from sessions.events import publish
from sessions.mail import Mailer, answer_message
from sessions.models import AssociateProfile, Brand, OfflineMessage

log = logging.getLogger(__name__)


def do_leave_message(
    db: Session, *, brand_id: int, shopper_id: int | None, name: str, email: str, body: str
) -> OfflineMessage:
    if not body.strip():
        raise InvalidInput("Write your message.", field="body")
    message = OfflineMessage(
        brand_id=brand_id,
        shopper_id=shopper_id,
        name=name.strip()[:120],
        email=normalise_email(email),
        body=body.strip()[:5000],
    )
    db.add(message)
    db.commit()
    publish("message_left", None, audience=f"brand:{brand_id}", message_id=message.id)
    return message


def do_answer_message(
    db: Session,
    message: OfflineMessage,
    answer: str,
    mailer: Mailer,
    *,
    by: AssociateProfile | None,
    by_name: str,
    now: datetime | None = None,
) -> OfflineMessage:
    """Answer by e-mail, once: the answer is committed first, the e-mail sent after it.

    The answer is claimed with a conditional UPDATE (``answered_at IS NULL``), so two
    colleagues answering at once cannot both send: the second is told who answered.
    The e-mail leaves only once the answer is stored; a mail server that refuses it
    gives the claim back (the message waits again, the associate is asked to retry)."""
    now = now or utcnow()
    text = answer.strip()
    if not text:
        raise InvalidInput("Write an answer.", field="answer")
    assert message.id is not None
    claimed = db.exec(
        update(OfflineMessage)
        .where(col(OfflineMessage.id) == message.id, col(OfflineMessage.answered_at).is_(None))
        .values(answer=text[:5000], answered_at=now, answered_by=by.id if by else None)
    )
    db.commit()
    db.refresh(message)
    if claimed.rowcount != 1:
        raise _already_answered(db, message)
    brand = db.get(Brand, message.brand_id)
    assert brand is not None
    mail = answer_message(
        brand_name=brand.name,
        name=message.name,
        email=message.email,
        question=message.body,
        answer=message.answer,
        associate=by.display_name if by else by_name,
    )
    db.commit()  # end the read too: no transaction (on SQLite, no lock) while mailing
    try:
        mailer.send(mail)
    except Exception as exc:
        log.warning("the answer to message %s could not be mailed: %s", message.id, exc)
        db.exec(
            update(OfflineMessage)
            .where(col(OfflineMessage.id) == message.id, col(OfflineMessage.answered_at) == now)
            .values(answer="", answered_at=None, answered_by=None)
        )
        db.commit()
        db.refresh(message)
        raise ServiceUnavailable(
            "The e-mail could not be sent, so the message still waits for an answer. "
            "Try again in a moment."
        ) from None
    return message


def _already_answered(db: Session, message: OfflineMessage) -> Conflict:
    who = db.get(AssociateProfile, message.answered_by) if message.answered_by else None
    when = as_utc(message.answered_at).strftime("%d %b %H:%M UTC") if message.answered_at else ""
    if who is None:
        return Conflict(
            N_("This message was already answered (%(when)s); the shopper has that answer."),
            params={"when": when},
            code="already_answered",
        )
    return Conflict(
        N_(
            "This message was already answered by %(name)s (%(when)s); the shopper has that answer."
        ),
        params={"name": who.display_name, "when": when},
        code="already_answered",
    )
