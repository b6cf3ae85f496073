"""A chat becomes video, both ways: the shopper taps "Show me on camera", or the associate
holding the thread offers "Try it on for you on camera"; the other side accepts in one tap
(or declines; whoever asked may cancel).

Accepting opens a consultation with the same machinery as talk-now: a video request of
the queue (``QueueRequest``, mode ``video``) offered to the thread's associate and accepted
at once by ``queue.do_accept``, which makes the ``LiveSession`` (kind CONSULTATION, live at
once: no waiting screen), tells the shopper (``queue_accepted``) and notes "Video started
with …" in the thread; ending it notes "Video ended" (``rooms.do_end_consultation``). The
consultation's media are then those of every consultation (``sessions.access.media_claims``:
private, recorded only if the brand says so).

One open request per thread: a second tap on the same side gets the same request back; a
tap on the other side while one is open is a yes. A request is open while it is pending,
younger than ``REQUEST_SECONDS`` and the associate it was asked of still holds the thread.
Every answer is a conditional UPDATE, so two taps (or two sides) cannot both answer it.
Each change is published (``video_request``) to the thread's shopper and the associate,
and noted in the thread so its history says what happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from sessions.access import (
    Actor,
    access_video_answer,
    access_video_ask,
    access_video_cancel,
)
from sessions.clock import utcnow
from sessions.errors import N_, Conflict
from sessions.events import publish
from sessions.i18n import GUEST, Phrase
from sessions.models import (
    AssociateProfile,
    LiveSession,
    QueueRequest,
    QueueStatus,
    SessionStatus,
    Shopper,
    Thread,
    ThreadStatus,
    VideoRequest,
    VideoRequestStatus,
    VideoSide,
)
from sessions.ratelimit import RateLimiter
from sessions.service import queue
from sessions.service.threads import do_post_system

# How long the other side has to answer before the request lapses.
REQUEST_SECONDS = 300
# Asking and cancelling in a loop would fill the thread with notes.
video_limiter = RateLimiter(
    "video-request", "6 per 5 minutes", N_("You have asked for video often; wait %(wait)s s.")
)


# --- reading ---------------------------------------------------------------------------


def _names(db: Session, request: VideoRequest) -> tuple[str, str]:
    shopper = db.get(Shopper, request.shopper_id)
    profile = db.get(AssociateProfile, request.associate_id)
    return (
        shopper.name if shopper and shopper.name else GUEST,
        profile.display_name if profile else "Your associate",
    )


def request_out(db: Session, request: VideoRequest) -> dict[str, Any]:
    """A video request for either side (the event's payload; the API adds the room links)."""
    shopper_name, associate_name = _names(db, request)
    return {
        "id": request.id,
        "thread_id": request.thread_id,
        "asked_by": request.asked_by.value,
        "status": request.status.value,
        "shopper_name": shopper_name,
        "associate_id": request.associate_id,
        "associate_name": associate_name,
        "live_session_id": request.live_session_id,
        "created_at": request.created_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
    }


def _is_open(request: VideoRequest, thread: Thread, now: datetime) -> bool:
    return (
        request.status is VideoRequestStatus.PENDING
        and request.expires_at > now
        and thread.status is ThreadStatus.ASSIGNED
        and thread.associate_id == request.associate_id
    )


def open_request(db: Session, thread: Thread, now: datetime | None = None) -> VideoRequest | None:
    """The thread's request still waiting for an answer, if any."""
    now = now or utcnow()
    latest = db.exec(
        select(VideoRequest)
        .where(
            VideoRequest.thread_id == thread.id,
            VideoRequest.status == VideoRequestStatus.PENDING,
        )
        .order_by(col(VideoRequest.id).desc())
    ).first()
    return latest if latest is not None and _is_open(latest, thread, now) else None


def current_request(
    db: Session, thread: Thread, now: datetime | None = None
) -> VideoRequest | None:
    """What a reloaded page shows: the open request, or the accepted one whose
    consultation still runs (so its room can be joined again)."""
    now = now or utcnow()
    latest = db.exec(
        select(VideoRequest)
        .where(VideoRequest.thread_id == thread.id)
        .order_by(col(VideoRequest.id).desc())
    ).first()
    if latest is None:
        return None
    if latest.status is VideoRequestStatus.ACCEPTED and latest.live_session_id is not None:
        live = db.get(LiveSession, latest.live_session_id)
        return latest if live is not None and live.status is not SessionStatus.ENDED else None
    return latest if _is_open(latest, thread, now) else None


def open_for_associate(
    db: Session, associate_id: int, now: datetime | None = None
) -> list[VideoRequest]:
    """The associate's open requests (shoppers asking, and their own offers), oldest first."""
    now = now or utcnow()
    rows = db.exec(
        select(VideoRequest, Thread)
        .join(Thread, col(Thread.id) == col(VideoRequest.thread_id))
        .where(
            VideoRequest.associate_id == associate_id,
            VideoRequest.status == VideoRequestStatus.PENDING,
            col(VideoRequest.expires_at) > now,
        )
        .order_by(col(VideoRequest.id))
    ).all()
    return [request for request, thread in rows if _is_open(request, thread, now)]


# --- acting ------------------------------------------------------------------------------


def _publish(db: Session, request: VideoRequest) -> None:
    out = request_out(db, request)
    publish("video_request", None, f"shopper:{request.shopper_id}", request=out)
    publish("video_request", None, f"associate:{request.associate_id}", request=out)


def _note(db: Session, thread: Thread, msgid: str, now: datetime, name: str = "") -> None:
    # A nameless shopper is "Guest" in each reader's own language.
    who = Phrase(GUEST) if name == GUEST else name
    do_post_system(db, thread, msgid, {"name": who} if name else None, now=now)


def do_request_video(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> VideoRequest:
    """The shopper asks to be shown on camera, or the associate holding the thread offers
    to go on camera. Asked already: the same request; asked by the other side: a yes."""
    now = now or utcnow()
    side = VideoSide(access_video_ask(actor, thread))
    if thread.status is not ThreadStatus.ASSIGNED or thread.associate_id is None:
        raise Conflict(
            "Nobody holds this conversation yet: video opens once an associate has taken it.",
            code="not_assigned",
        )
    existing = open_request(db, thread, now)
    if existing is not None:
        if existing.asked_by is side:
            return existing  # a second tap asks once
        return do_accept_video(db, actor, thread, now=now)  # both want it: that is a yes
    video_limiter.hit(f"{thread.id}:{actor.identity}")
    assert thread.id is not None
    request = VideoRequest(
        thread_id=thread.id,
        brand_id=thread.brand_id,
        shopper_id=thread.shopper_id,
        associate_id=thread.associate_id,
        asked_by=side,
        created_at=now,
        expires_at=now + timedelta(seconds=REQUEST_SECONDS),
    )
    db.add(request)
    db.commit()
    db.refresh(request)
    shopper_name, associate_name = _names(db, request)
    if side is VideoSide.SHOPPER:
        _note(db, thread, N_("%(name)s asked to be shown on camera"), now, shopper_name)
    else:
        _note(
            db, thread, N_("%(name)s offered to try it on for you on camera"), now, associate_name
        )
    _publish(db, request)
    return request


def _answer(db: Session, request: VideoRequest, status: VideoRequestStatus, now: datetime) -> None:
    """Move a pending request on, once: the loser of two taps is told it was answered."""
    result = db.exec(
        update(VideoRequest)
        .where(
            col(VideoRequest.id) == request.id,
            col(VideoRequest.status) == VideoRequestStatus.PENDING,
        )
        .values(status=status, answered_at=now)
    )
    db.commit()
    db.refresh(request)
    if result.rowcount != 1:
        raise Conflict(
            N_("This video request was already %(value)s."),
            params={"value": request.status.value},
            code="answered",
        )


def _the_open_request(db: Session, thread: Thread, now: datetime) -> VideoRequest:
    request = open_request(db, thread, now)
    if request is None:
        raise Conflict("No video request is waiting for an answer.", code="no_request")
    return request


def do_accept_video(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> VideoRequest:
    """The other side says yes: a consultation opens for both (the talk-now machinery)."""
    now = now or utcnow()
    access_video_ask(actor, thread)  # a stranger learns nothing of the thread's requests
    request = _the_open_request(db, thread, now)
    access_video_answer(actor, thread, request.asked_by.value)
    _answer(db, request, VideoRequestStatus.ACCEPTED, now)
    # A talk-now video request offered to the thread's associate, taken at once.
    taken = QueueRequest(
        brand_id=thread.brand_id,
        shopper_id=thread.shopper_id,
        mode="video",
        language=thread.language,
        store_id=thread.store_id,
        status=QueueStatus.OFFERED,
        associate_id=request.associate_id,
        offered_at=now,
        created_at=now,
    )
    db.add(taken)
    db.commit()
    live = queue.do_accept(db, taken, request.associate_id, now=now)
    request.live_session_id = live.id
    db.add(request)
    db.commit()
    db.refresh(request)
    _publish(db, request)
    return request


def do_decline_video(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> VideoRequest:
    """The other side says not now: whoever asked is told."""
    now = now or utcnow()
    access_video_ask(actor, thread)
    request = _the_open_request(db, thread, now)
    side = access_video_answer(actor, thread, request.asked_by.value)
    _answer(db, request, VideoRequestStatus.DECLINED, now)
    shopper_name, associate_name = _names(db, request)
    if side == VideoSide.STAFF.value:
        _note(db, thread, N_("%(name)s cannot go on camera right now"), now, associate_name)
    else:
        _note(db, thread, N_("%(name)s would rather not go on video now"), now, shopper_name)
    _publish(db, request)
    return request


def do_cancel_video(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> VideoRequest:
    """Whoever asked withdraws it: the other side is told."""
    now = now or utcnow()
    access_video_ask(actor, thread)
    request = _the_open_request(db, thread, now)
    access_video_cancel(actor, thread, request.asked_by.value)
    _answer(db, request, VideoRequestStatus.CANCELLED, now)
    _note(db, thread, N_("The video request was withdrawn"), now)
    _publish(db, request)
    return request


def do_lapse_due(db: Session, now: datetime | None = None) -> int:
    """Requests nobody answered before their `expires_at` lapse, each once (a conditional
    UPDATE: two nodes' schedulers lapse it once), and both sides are told: no page keeps
    a timer of its own. Returns how many lapsed."""
    now = now or utcnow()
    due = db.exec(
        select(VideoRequest.id).where(
            VideoRequest.status == VideoRequestStatus.PENDING,
            col(VideoRequest.expires_at) <= now,
        )
    ).all()
    db.commit()  # end the read transaction before the writes
    lapsed = 0
    for request_id in due:
        result = db.exec(
            update(VideoRequest)
            .where(
                col(VideoRequest.id) == request_id,
                col(VideoRequest.status) == VideoRequestStatus.PENDING,
            )
            .values(status=VideoRequestStatus.EXPIRED, answered_at=now)
        )
        db.commit()
        if result.rowcount == 1:
            request = db.get(VideoRequest, request_id)
            if request is not None:
                db.refresh(request)
                _publish(db, request)
                lapsed += 1
    return lapsed
