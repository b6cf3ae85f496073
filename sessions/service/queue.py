"""Talk now: the queue, routing to an associate, offers that time out, transfer, offline answer.

Routing picks, for the oldest waiting request first, whom the one routing
engine (``sessions.service.routing``, shared with chat threads) names: an
associate present at their console who speaks the shopper's language, works at
the requested store, is under their cap (chats and video counted together) and
has not let this request pass; the least busy wins, then the one idle longest.
The associate gets an offer to accept within `accept_seconds`; if they let it
pass or decline, the request goes to the next. Every state change is a
conditional UPDATE, so two web nodes routing at once never offer one request
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, func, select

from sessions.analytics.events import status_event
from sessions.catalogue import new_room_name
from sessions.clock import utcnow
from sessions.errors import Conflict, Forbidden, InvalidInput, NotFound
from sessions.events import publish
from sessions.models import (
    AssociateProfile,
    AssociateStatus,
    Brand,
    LiveSession,
    QueueRequest,
    QueueStatus,
    SessionKind,
    SessionStatus,
    Store,
)
from sessions.service import activity, routing
from sessions.service.routing import next_opening
from sessions.service.threads import route_threads

DEFAULT_ACCEPT_SECONDS = 30
# What one chat takes on average when we have no history to go on.
DEFAULT_HANDLE_SECONDS = 300
MODES = ("chat", "video")
OPEN = (QueueStatus.WAITING, QueueStatus.OFFERED)


@dataclass(frozen=True)
class OfflineAnswer:
    message: str
    next_opening: datetime | None


@dataclass(frozen=True)
class QueuePosition:
    position: int
    estimated_wait_seconds: int


# --- who is there --------------------------------------------------------------


def online_associates(db: Session, brand_id: int) -> list[AssociateProfile]:
    return list(
        db.exec(
            select(AssociateProfile)
            .where(
                AssociateProfile.brand_id == brand_id,
                AssociateProfile.status == AssociateStatus.ONLINE,
            )
            .order_by(col(AssociateProfile.id))
        ).all()
    )


# Chats and video count together: one engine, one load (sessions/service/routing.py).
active_load = routing.load_of


def need_of(request: QueueRequest) -> routing.Need:
    return routing.Need(
        brand_id=request.brand_id,
        language=request.language,
        store_id=request.store_id,
        passed=routing.passed_ids(request.declined_by),
    )


def eligible(
    db: Session, request: QueueRequest, now: datetime | None = None
) -> list[AssociateProfile]:
    """Who could take this request now, best first (ignoring who let it pass)."""
    return routing.eligible(db, need_of(request), now or utcnow())


# --- offline answer -----------------------------------------------------------


def offline_answer(db: Session, brand: Brand, now: datetime) -> OfflineAnswer:
    assert brand.id is not None
    return OfflineAnswer(
        message=brand.offline_message, next_opening=next_opening(db, brand.id, now)
    )


# --- the shopper's side ---------------------------------------------------------


def do_enqueue(
    db: Session,
    *,
    brand: Brand,
    shopper_id: int,
    mode: str = "chat",
    language: str = "en",
    store_id: int | None = None,
    now: datetime | None = None,
) -> QueueRequest | OfflineAnswer:
    """Ask to talk now. Nobody online for this request: the brand's offline answer, at once."""
    now = now or utcnow()
    assert brand.id is not None
    if mode not in MODES:
        raise InvalidInput("Choose chat or video.", field="mode")
    if store_id is not None:
        store = db.get(Store, store_id)
        if store is None or store.brand_id != brand.id:
            raise NotFound(f"No store with id {store_id} at this brand.")
    existing = db.exec(
        select(QueueRequest).where(
            QueueRequest.brand_id == brand.id,
            QueueRequest.shopper_id == shopper_id,
            col(QueueRequest.status).in_(OPEN),
        )
    ).first()
    if existing is not None:
        return existing  # a second tap does not queue twice
    probe = QueueRequest(
        brand_id=brand.id, shopper_id=shopper_id, mode=mode, language=language, store_id=store_id
    )
    if not routing.anyone_for(db, need_of(probe), now):
        return offline_answer(db, brand, now)
    probe.created_at = now
    db.add(probe)
    db.commit()
    do_route(db, brand.id, now=now)
    db.refresh(probe)
    return probe


def position_of(db: Session, request: QueueRequest) -> QueuePosition:
    """Place in the brand's queue (1 = next) and a wait estimate from who is online."""
    ahead = db.exec(
        select(func.count())
        .select_from(QueueRequest)
        .where(
            QueueRequest.brand_id == request.brand_id,
            col(QueueRequest.status).in_(OPEN),
            or_(
                col(QueueRequest.created_at) < request.created_at,
                (col(QueueRequest.created_at) == request.created_at)
                & (col(QueueRequest.id) < request.id),
            ),
        )
    ).one()
    position = int(ahead) + 1
    people = online_associates(db, request.brand_id)
    capacity = max(1, sum(p.max_parallel_chats for p in people))
    wait = 0 if request.status is QueueStatus.OFFERED else position * DEFAULT_HANDLE_SECONDS
    return QueuePosition(position=position, estimated_wait_seconds=wait // capacity)


def do_cancel_request(db: Session, request: QueueRequest, shopper_id: int) -> QueueRequest:
    if request.shopper_id != shopper_id:
        raise Forbidden("This request is not yours.")
    if request.status in OPEN:
        request.status = QueueStatus.CANCELLED
        db.add(request)
        db.commit()
    return request


# --- routing ----------------------------------------------------------------------


def _expire_offers(db: Session, brand_id: int, now: datetime, accept_seconds: int) -> None:
    deadline = now - timedelta(seconds=accept_seconds)
    stale = db.exec(
        select(QueueRequest).where(
            QueueRequest.brand_id == brand_id,
            QueueRequest.status == QueueStatus.OFFERED,
            col(QueueRequest.offered_at) < deadline,
        )
    ).all()
    for request in stale:
        _pass_on(db, request, now)


def _pass_on(db: Session, request: QueueRequest, now: datetime) -> bool:
    """Back to waiting, remembering who let it pass. Conditional: only from OFFERED."""
    offered_to = request.associate_id  # the UPDATE below also clears it on the loaded object
    passed = routing.passed_text(routing.passed_ids(request.declined_by) | {offered_to or 0})
    result = db.exec(
        update(QueueRequest)
        .where(
            col(QueueRequest.id) == request.id,
            col(QueueRequest.status) == QueueStatus.OFFERED,
            col(QueueRequest.associate_id) == offered_to,
        )
        .values(status=QueueStatus.WAITING, associate_id=None, offered_at=None, declined_by=passed)
    )
    db.commit()
    if result.rowcount == 1:
        publish(
            "queue_offer_withdrawn",
            None,
            audience=f"associate:{offered_to}",
            request_id=request.id,
        )
    return bool(result.rowcount == 1)


def _offer(db: Session, request: QueueRequest, associate_id: int, now: datetime) -> bool:
    result = db.exec(
        update(QueueRequest)
        .where(col(QueueRequest.id) == request.id, col(QueueRequest.status) == QueueStatus.WAITING)
        .values(status=QueueStatus.OFFERED, associate_id=associate_id, offered_at=now)
    )
    db.commit()
    if result.rowcount == 1:
        publish(
            "queue_offer",
            None,
            audience=f"associate:{associate_id}",
            request_id=request.id,
            mode=request.mode,
        )
    return bool(result.rowcount == 1)


def do_route(
    db: Session,
    brand_id: int,
    *,
    now: datetime | None = None,
    accept_seconds: int = DEFAULT_ACCEPT_SECONDS,
) -> int:
    """Expire unanswered offers, then offer waiting requests, oldest first. Returns offers made."""
    now = now or utcnow()
    _expire_offers(db, brand_id, now, accept_seconds)
    waiting = db.exec(
        select(QueueRequest)
        .where(QueueRequest.brand_id == brand_id, QueueRequest.status == QueueStatus.WAITING)
        .order_by(col(QueueRequest.created_at), col(QueueRequest.id))
    ).all()
    made = 0
    for request in waiting:
        chosen = routing.choose(db, need_of(request), now)
        if chosen is not None and chosen.id is not None and _offer(db, request, chosen.id, now):
            made += 1
    db.commit()  # end the read transaction: on SQLite it would hold the write lock
    return made


def route_all(db: Session, *, now: datetime | None = None, accept_seconds: int = 30) -> int:
    """Route every brand that has open requests (the background tick)."""
    brand_ids = db.exec(
        select(QueueRequest.brand_id).where(col(QueueRequest.status).in_(OPEN)).distinct()
    ).all()
    return sum(do_route(db, b, now=now, accept_seconds=accept_seconds) for b in brand_ids)


# --- the associate's side --------------------------------------------------------


def _offered_to(request: QueueRequest, associate_id: int) -> None:
    if request.status is not QueueStatus.OFFERED or request.associate_id != associate_id:
        raise Conflict("This request is no longer offered to you.", code="offer_gone")


def do_accept(
    db: Session,
    request: QueueRequest,
    associate_id: int,
    *,
    now: datetime | None = None,
    accept_seconds: int = DEFAULT_ACCEPT_SECONDS,
) -> LiveSession:
    """Take the shopper: a consultation session starts at once (no waiting screen)."""
    now = now or utcnow()
    _offered_to(request, associate_id)
    if request.offered_at and request.offered_at < now - timedelta(seconds=accept_seconds):
        _pass_on(db, request, now)
        raise Conflict("Too late: this request has passed to a colleague.", code="offer_gone")
    result = db.exec(
        update(QueueRequest)
        .where(
            col(QueueRequest.id) == request.id,
            col(QueueRequest.status) == QueueStatus.OFFERED,
            col(QueueRequest.associate_id) == associate_id,
        )
        .values(status=QueueStatus.ACCEPTED, accepted_at=now, first_response_at=now)
    )
    if result.rowcount != 1:
        db.rollback()
        raise Conflict("This request is no longer offered to you.", code="offer_gone")
    live = LiveSession(
        brand_id=request.brand_id,
        kind=SessionKind.CONSULTATION,
        queue_request_id=request.id,
        shopper_id=request.shopper_id,
        associate_id=associate_id,
        room=new_room_name("talk"),
        status=SessionStatus.LIVE,
        started_at=now,
    )
    db.add(live)
    db.commit()
    db.refresh(request)
    publish(
        "queue_accepted",
        None,
        audience=f"shopper:{request.shopper_id}",
        request_id=request.id,
        live_session_id=live.id,
    )
    profile = db.get(AssociateProfile, associate_id)
    name = profile.display_name if profile else "an associate"
    activity.note_talk_now_started(
        db, request.brand_id, request.shopper_id, mode=request.mode, associate_name=name
    )
    return live


def do_decline(
    db: Session, request: QueueRequest, associate_id: int, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    _offered_to(request, associate_id)
    _pass_on(db, request, now)
    do_route(db, request.brand_id, now=now)


def do_set_status(
    db: Session, profile: AssociateProfile, status: AssociateStatus, *, now: datetime | None = None
) -> AssociateProfile:
    """Online / away / offline. Going online routes whoever waits (talk-now and chats).

    Setting one's status is a sign of life at the console: the idle clock starts now."""
    now = now or utcnow()
    profile.status = status
    profile.status_changed_at = now
    profile.console_seen_at = now
    db.add(profile)
    db.add(status_event(profile, now))  # service coverage is counted from these
    db.commit()
    if status is AssociateStatus.ONLINE:
        do_route(db, profile.brand_id, now=now)
        route_threads(db, profile.brand_id, now=now)
    return profile


def offers_for(db: Session, associate_id: int) -> list[QueueRequest]:
    return list(
        db.exec(
            select(QueueRequest)
            .where(
                QueueRequest.associate_id == associate_id,
                QueueRequest.status == QueueStatus.OFFERED,
            )
            .order_by(col(QueueRequest.offered_at))
        ).all()
    )


def waiting_for_brand(db: Session, brand_id: int) -> list[QueueRequest]:
    return list(
        db.exec(
            select(QueueRequest)
            .where(QueueRequest.brand_id == brand_id, col(QueueRequest.status).in_(OPEN))
            .order_by(col(QueueRequest.created_at))
        ).all()
    )


def live_session_of(db: Session, request: QueueRequest) -> LiveSession | None:
    return db.exec(select(LiveSession).where(LiveSession.queue_request_id == request.id)).first()


# --- messages left when nobody is there -------------------------------------------
