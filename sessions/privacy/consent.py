"""Consent before a consultation's media is kept.

Before a consultation is recorded (where the brand records them) or a try-on snapshot is
kept, its shopper is asked, in plain words, and answers yes or no; the answer is stored
with its time. Without a yes the relay is not asked to record (``sessions.access.
media_claims``) and the associate's snapshot is refused with the reason. The associate's
console hears the answer at once (``consent``, to the room's hosts)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from sessions.access import Actor, access_consent
from sessions.clock import utcnow
from sessions.errors import N_, Conflict
from sessions.events import publish
from sessions.models import Brand, ConsultationConsent, LiveSession, SessionKind, SessionStatus


def consent_of(db: Session, live: LiveSession) -> ConsultationConsent | None:
    if live.kind is not SessionKind.CONSULTATION:
        return None
    return db.exec(
        select(ConsultationConsent).where(ConsultationConsent.live_session_id == live.id)
    ).first()


def media_allowed(db: Session, live: LiveSession) -> bool:
    """May this session's media be kept? A show's, always (it is public); a
    consultation's only once its shopper said yes."""
    if live.kind is SessionKind.SHOW:
        return True
    found = consent_of(db, live)
    return found is not None and found.accepted


def do_decide_consent(
    db: Session, actor: Actor, live: LiveSession, *, accepted: bool, now: datetime | None = None
) -> ConsultationConsent:
    """The shopper's answer; they may change their mind until the consultation ends."""
    access_consent(actor, live)
    if live.status is SessionStatus.ENDED:
        raise Conflict("This consultation has ended.", code="ended")
    brand = db.get(Brand, live.brand_id)
    assert brand is not None and live.id is not None and actor.shopper_id is not None
    row = consent_of(db, live) or ConsultationConsent(
        live_session_id=live.id, shopper_id=actor.shopper_id
    )
    row.accepted = accepted
    row.recording_asked = brand.record_consultations
    row.decided_at = now or utcnow()
    db.add(row)
    db.commit()
    publish(
        "consent",
        live.room,
        audience="hosts",
        live_session_id=live.id,
        accepted=accepted,
        recording=brand.record_consultations and accepted,
        at=row.decided_at.isoformat(),
    )
    return row


def consent_state(db: Session, live: LiveSession) -> str | None:
    """ "accepted", "declined", or None while the shopper has not answered (or a show)."""
    found = consent_of(db, live)
    if found is None:
        return None
    return "accepted" if found.accepted else "declined"


def check_snapshot_allowed(db: Session, live: LiveSession) -> None:
    """Refuse, with the reason the associate reads, a snapshot the shopper has not agreed to."""
    state = consent_state(db, live) if live.kind is SessionKind.CONSULTATION else "accepted"
    db.commit()  # end the read: on SQLite it would hold the write lock
    if state == "declined":
        raise Conflict(
            N_("The shopper declined: no snapshot of this consultation is kept."),
            code="consent_declined",
        )
    if state is None:
        raise Conflict(
            N_("The shopper has not yet agreed to keep pictures of this consultation."),
            code="consent_pending",
        )
