"""After a consultation: the shopper's rating, and each associate's service record.

The record is computed from what is already stored (sessions, chat, bags,
ratings), so it never drifts from the facts:
- first response time: from the start of a consultation (the talk-now request,
  or the booked time) to the associate's first chat message in it;
- average response time: from each shopper message to the associate's next one;
- consultations held: consultations that went live;
- rating: mean score and how many;
- bag value influenced: what went into bags during their consultations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from sessions.errors import Conflict, Forbidden, InvalidInput
from sessions.events import publish
from sessions.models import (
    Appointment,
    AssociateProfile,
    BagLine,
    ChatMessage,
    LiveSession,
    QueueRequest,
    Rating,
    SessionKind,
)


@dataclass(frozen=True)
class AssociateRecord:
    associate_id: int
    name: str
    consultations_held: int
    first_response_seconds: float | None
    average_response_seconds: float | None
    rating: float | None
    ratings_count: int
    bag_value_minor: int


def do_rate(
    db: Session, live: LiveSession, *, shopper_id: int, score: int, comment: str = ""
) -> Rating:
    if live.kind is not SessionKind.CONSULTATION or live.associate_id is None:
        raise InvalidInput("Only a consultation can be rated.")
    if live.shopper_id != shopper_id:
        raise Forbidden("Only the shopper of this consultation may rate it.")
    if live.started_at is None:
        raise Conflict("This consultation has not taken place yet.")
    if not 1 <= score <= 5:
        raise InvalidInput("Give a score from 1 to 5.", field="score")
    assert live.id is not None
    rating = Rating(
        brand_id=live.brand_id,
        associate_id=live.associate_id,
        live_session_id=live.id,
        shopper_id=shopper_id,
        score=score,
        comment=comment.strip()[:2000],
    )
    db.add(rating)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict("You have already rated this consultation. Thank you!") from None
    publish("rated", None, audience=f"associate:{live.associate_id}", score=score)
    return rating


def _began(db: Session, live: LiveSession) -> datetime | None:
    """When the shopper started waiting for an answer."""
    if live.queue_request_id is not None:
        request = db.get(QueueRequest, live.queue_request_id)
        return request.created_at if request else live.started_at
    if live.appointment_id is not None:
        appointment = db.get(Appointment, live.appointment_id)
        if appointment is not None:
            return max(appointment.starts_at, live.started_at or appointment.starts_at)
    return live.started_at


def _response_times(
    db: Session, live: LiveSession, staff_user_id: int
) -> tuple[float | None, list[float]]:
    messages = db.exec(
        select(ChatMessage)
        .where(ChatMessage.live_session_id == live.id, col(ChatMessage.deleted_at).is_(None))
        .order_by(col(ChatMessage.id))
    ).all()
    began = _began(db, live)
    first: float | None = None
    gaps: list[float] = []
    waiting_since: datetime | None = None
    for message in messages:
        if message.user_id == staff_user_id:
            if first is None and began is not None:
                first = max(0.0, (message.created_at - began).total_seconds())
            if waiting_since is not None:
                gaps.append((message.created_at - waiting_since).total_seconds())
                waiting_since = None
        elif message.shopper_id is not None and waiting_since is None:
            waiting_since = message.created_at
    return first, gaps


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def associate_record(db: Session, profile: AssociateProfile) -> AssociateRecord:
    assert profile.id is not None
    sessions_held = db.exec(
        select(LiveSession).where(
            LiveSession.associate_id == profile.id,
            LiveSession.kind == SessionKind.CONSULTATION,
            col(LiveSession.started_at).is_not(None),
        )
    ).all()
    firsts: list[float] = []
    gaps: list[float] = []
    for live in sessions_held:
        first, more = _response_times(db, live, profile.user_id)
        if first is not None:
            firsts.append(first)
        gaps.extend(more)
    score, count = db.exec(
        select(func.avg(Rating.score), func.count(col(Rating.id))).where(
            Rating.associate_id == profile.id
        )
    ).one()
    ids = [s.id for s in sessions_held]
    bag_value = 0
    if ids:
        bag_value = int(
            db.exec(
                select(
                    func.coalesce(func.sum(BagLine.unit_price_minor * BagLine.quantity), 0)
                ).where(col(BagLine.live_session_id).in_(ids))
            ).one()
        )
    return AssociateRecord(
        associate_id=profile.id,
        name=profile.display_name,
        consultations_held=len(sessions_held),
        first_response_seconds=_mean(firsts),
        average_response_seconds=_mean(gaps),
        rating=float(score) if score is not None else None,
        ratings_count=int(count),
        bag_value_minor=bag_value,
    )


def brand_ranking(db: Session, brand_id: int) -> list[AssociateRecord]:
    """The brand's service ranking: best rated first, then most consultations, then bag value."""
    profiles = db.exec(select(AssociateProfile).where(AssociateProfile.brand_id == brand_id)).all()
    records = [associate_record(db, p) for p in profiles]
    return sorted(
        records,
        key=lambda r: (-(r.rating or 0.0), -r.consultations_held, -r.bag_value_minor, r.name),
    )
