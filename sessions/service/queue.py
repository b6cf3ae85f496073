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

from sqlalchemy import update
from sqlmodel import Session, col, select

from sessions.analytics.events import status_event
from sessions.brand_texts import localised
from sessions.catalogue import new_room_name
from sessions.clock import as_utc, utcnow
from sessions.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
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


def offline_answer(
    db: Session, brand: Brand, now: datetime, language: str | None = None
) -> OfflineAnswer:
    """The brand's offline message in the shopper's language (else its default's)."""
    assert brand.id is not None
    return OfflineAnswer(
        message=localised(db, "brand", brand, "offline_message", language),
        next_opening=next_opening(db, brand.id, now),
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
            raise NotFound(N_("No store with id %(id)s at this brand."), params={"id": store_id})
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
        return offline_answer(db, brand, now, language)
    probe.created_at = now
    db.add(probe)
    db.commit()
    do_route(db, brand.id, now=now, changed=True)
    db.refresh(probe)
    return probe


def position_of(db: Session, request: QueueRequest) -> QueuePosition:
    """Place in the brand's queue (1 = next) and an honest wait (see `_places`)."""
    places = _places(db, request.brand_id)
    for open_request, place in places:
        if open_request.id == request.id:
            return place
    return QueuePosition(position=len(places) + 1, estimated_wait_seconds=0)


def _handle_seconds(db: Session, brand_id: int) -> int:
    """What one talk-now conversation took at the brand lately (the mean of the last 50
    ended), or DEFAULT_HANDLE_SECONDS with no history to go on."""
    rows = db.exec(
        select(LiveSession.started_at, LiveSession.ended_at)
        .where(
            LiveSession.brand_id == brand_id,
            col(LiveSession.queue_request_id).is_not(None),
            col(LiveSession.started_at).is_not(None),
            col(LiveSession.ended_at).is_not(None),
        )
        .order_by(col(LiveSession.id).desc())
        .limit(50)
    ).all()
    spans = [(end - start).total_seconds() for start, end in rows if start and end]
    spans = [s for s in spans if s > 0]
    return int(sum(spans) / len(spans)) if spans else DEFAULT_HANDLE_SECONDS


def _places(db: Session, brand_id: int) -> list[tuple[QueueRequest, QueuePosition]]:
    """Every open request's place, oldest first, and its wait: zero once offered or
    while present associates have free places for everyone ahead; otherwise the
    requests still needing a place beyond the free ones, times what a conversation
    takes at the brand, shared over the places present associates have."""
    open_requests = sorted(waiting_for_brand(db, brand_id), key=lambda r: (r.created_at, r.id or 0))
    if not open_requests:
        return []
    people = routing.present_associates(db, brand_id, utcnow())
    loads = routing.loads_of(db, [p.id or 0 for p in people])
    free = sum(max(0, p.max_parallel_chats - loads.get(p.id or 0, 0)) for p in people)
    capacity = max(1, sum(p.max_parallel_chats for p in people))
    handle = _handle_seconds(db, brand_id)
    out: list[tuple[QueueRequest, QueuePosition]] = []
    needing = 0
    for position, request in enumerate(open_requests, start=1):
        if request.status is QueueStatus.OFFERED:
            out.append((request, QueuePosition(position, 0)))
            continue
        needing += 1
        wait = 0 if needing <= free else (needing - free) * handle // capacity
        out.append((request, QueuePosition(position, wait)))
    return out


def publish_queue(db: Session, brand_id: int) -> None:
    """The queue moved: each waiting shopper is told their place and wait, the brand's
    consoles how many wait. (Live means pushed: no screen polls for these.)"""
    places = _places(db, brand_id)
    for request, place in places:
        assert request.id is not None
        publish(
            "queue_position",
            None,
            f"shopper:{request.shopper_id}",
            request_id=request.id,
            status=request.status.value,
            position=place.position,
            estimated_wait_seconds=place.estimated_wait_seconds,
        )
    publish("queue_waiting", None, f"brand:{brand_id}", brand_id=brand_id, waiting=len(places))
    db.commit()  # end the read transaction: on SQLite it would hold the write lock


def do_cancel_request(db: Session, request: QueueRequest, shopper_id: int) -> QueueRequest:
    """The shopper leaves the queue: an offer made to an associate is withdrawn, and pushed."""
    if request.shopper_id != shopper_id:
        raise Forbidden("This request is not yours.")
    _leave(db, request)
    publish_queue(db, request.brand_id)
    return request


def _leave(db: Session, request: QueueRequest) -> None:
    """Conditional: only an open request is cancelled, once, whoever routes at that instant."""
    db.refresh(request)
    offered_to = request.associate_id if request.status is QueueStatus.OFFERED else None
    result = db.exec(
        update(QueueRequest)
        .where(
            col(QueueRequest.id) == request.id,
            col(QueueRequest.status) == request.status,
            col(QueueRequest.status).in_(OPEN),
        )
        .values(status=QueueStatus.CANCELLED)
    )
    db.commit()
    db.refresh(request)
    if result.rowcount == 1 and offered_to is not None:
        publish(
            "queue_offer_withdrawn",
            None,
            audience=f"associate:{offered_to}",
            request_id=request.id,
            reason="left",
        )


# --- routing ----------------------------------------------------------------------


def _expire_offers(db: Session, brand_id: int, now: datetime, accept_seconds: int) -> int:
    deadline = now - timedelta(seconds=accept_seconds)
    stale = db.exec(
        select(QueueRequest).where(
            QueueRequest.brand_id == brand_id,
            QueueRequest.status == QueueStatus.OFFERED,
            col(QueueRequest.offered_at) < deadline,
        )
    ).all()
    return sum(1 for request in stale if _pass_on(db, request, now))


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
    changed: bool = False,
) -> int:
    """Expire unanswered offers, then offer waiting requests, oldest first. Returns offers made.

    When the queue moved (`changed`: the caller changed it; or an offer lapsed or was
    made here) its shoppers and the brand's consoles are told (`publish_queue`)."""
    now = now or utcnow()
    lapsed = _expire_offers(db, brand_id, now, accept_seconds)
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
    if changed or lapsed or made:
        publish_queue(db, brand_id)
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


def _too_late(accept_seconds: int) -> Conflict:
    return Conflict(
        N_(
            "Too late: you had %(accept_seconds)s seconds to accept, and this "
            "shopper has passed to a colleague. The next request will come to "
            "you."
        ),
        params={"accept_seconds": accept_seconds},
        code="offer_passed",
    )


def _check_still_yours(
    db: Session, request: QueueRequest, associate_id: int, now: datetime, accept_seconds: int
) -> None:
    """Why an offer can no longer be accepted, in words: it passed on (too late), the
    shopper left, or a colleague has them. A late tap passes it on if nobody did yet."""
    if request.status is QueueStatus.OFFERED and request.associate_id == associate_id:
        offered_at = request.offered_at
        if offered_at and as_utc(offered_at) < now - timedelta(seconds=accept_seconds):
            _pass_on(db, request, now)
            raise _too_late(accept_seconds)
        return
    if associate_id in routing.passed_ids(request.declined_by):
        raise _too_late(accept_seconds)
    if request.status is QueueStatus.CANCELLED:
        raise Conflict("The shopper has left the queue.", code="offer_gone")
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
    _check_still_yours(db, request, associate_id, now, accept_seconds)
    result = db.exec(
        update(QueueRequest)
        .where(
            col(QueueRequest.id) == request.id,
            col(QueueRequest.status) == QueueStatus.OFFERED,
            col(QueueRequest.associate_id) == associate_id,
        )
        .values(status=QueueStatus.ACCEPTED, accepted_at=now, first_response_at=now)
    )
    if result.rowcount != 1:  # it moved between the read and the UPDATE: say how
        db.rollback()
        db.refresh(request)
        _check_still_yours(db, request, associate_id, now, accept_seconds)
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
    publish_queue(db, request.brand_id)  # those behind move up
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
    do_route(db, request.brand_id, now=now, changed=True)


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
        do_route(db, profile.brand_id, now=now, changed=True)  # more places: shorter waits
        route_threads(db, profile.brand_id, now=now)
    elif waiting_for_brand(db, profile.brand_id):
        publish_queue(db, profile.brand_id)  # fewer places: longer waits
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
