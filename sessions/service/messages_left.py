"""Messages left when nobody is there, and the associate's answer by e-mail."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from sessions.accounts import normalise_email
from sessions.clock import utcnow
from sessions.errors import Conflict, InvalidInput
from sessions.events import publish
from sessions.mail import Mailer, answer_message
from sessions.models import AssociateProfile, Brand, OfflineMessage


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
    """Answer by e-mail; the message is marked answered only once the e-mail has gone."""
    if message.answered_at is not None:
        raise Conflict("This message has already been answered.")
    if not answer.strip():
        raise InvalidInput("Write an answer.", field="answer")
    brand = db.get(Brand, message.brand_id)
    assert brand is not None
    mailer.send(
        answer_message(
            brand_name=brand.name,
            name=message.name,
            email=message.email,
            question=message.body,
            answer=answer.strip(),
            associate=by.display_name if by else by_name,
        )
    )
    message.answer = answer.strip()
    message.answered_at = now or utcnow()
    message.answered_by = by.id if by else None
    db.add(message)
    db.commit()
    return message
