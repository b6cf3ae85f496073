"""The consultation room's lifecycle in one place: the shopper arrives, the associate
admits them, hands them to a colleague, sends a try-on snapshot, ends it.

Talk-now requests and booked appointments both end up here: a consultation is a
`LiveSession` of kind CONSULTATION, whichever way it began.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from sessions import live as live_actions
from sessions.access import Actor, access_host
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, InvalidInput, NotFound
from sessions.events import publish
from sessions.models import (
    AssociateProfile,
    ChatMessage,
    LiveSession,
    MessageKind,
    QueueRequest,
    QueueStatus,
    SessionKind,
    SessionStatus,
)
from sessions.privacy.consent import check_snapshot_allowed
from sessions.service import activity
from sessions.service.queue import do_route
from sessions.service.routing import can_take
from sessions.service.threads import do_note_in_thread, do_picture_in_thread, route_threads


def do_send_snapshot(
    db: Session,
    actor: Actor,
    live: LiveSession,
    attachment_path: str,
    caption: str = "",
    colour_report: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Send a try-on snapshot; ``colour_report`` when it was corrected against the
    reference card (sessions/colour/report.py), shown with the picture."""
    access_host(actor, live)
    if live.status is SessionStatus.ENDED:
        raise Conflict("This session has ended.", code="ended")
    check_snapshot_allowed(db, live)  # a consultation's picture is kept only with a yes
    assert live.id is not None
    msg = ChatMessage(
        live_session_id=live.id,
        kind=MessageKind.SNAPSHOT,
        user_id=actor.user_id,
        author_name=actor.name[:120],
        body=caption.strip()[:500] or "A picture for you",
        attachment_path=attachment_path,
        colour_report=colour_report,
    )
    db.add(msg)
    db.commit()
    out = live_actions.message_out(msg, "host")
    publish("message", live.room, message=out)
    _snapshot_into_thread(db, actor, live, msg)
    return out


def _snapshot_into_thread(db: Session, actor: Actor, live: LiveSession, msg: ChatMessage) -> None:
    """A consultation's snapshot is kept in the shopper's one thread too (served, like in
    the room, at /snapshots/<session>/<name> to its shopper and the brand's staff only)."""
    if live.kind is not SessionKind.CONSULTATION or live.shopper_id is None:
        return  # a show's snapshot is for its whole room, not anyone's thread
    assert msg.attachment_path is not None
    name = msg.attachment_path.removeprefix("snapshots/")
    do_picture_in_thread(
        db,
        live.brand_id,
        live.shopper_id,
        author=actor.name,
        user_id=actor.user_id,
        attachment_url=f"/snapshots/{live.id}/{name}",
        caption=msg.body,
        colour_report=msg.colour_report,  # its figures too: the thread keeps what was shown
    )


def do_arrive(db: Session, live: LiveSession, *, now: datetime | None = None) -> LiveSession:
    """The shopper is on the waiting screen: the associate sees them and may admit them."""
    now = now or utcnow()
    if live.status is SessionStatus.ENDED:
        raise Conflict("This consultation has ended.", code="ended")
    if live.shopper_arrived_at is None:
        live.shopper_arrived_at = now
        db.add(live)
        db.commit()
        publish(
            "shopper_waiting",
            live.room,
            audience="hosts",
            live_session_id=live.id,
            at=now.isoformat(),
            associate_id=live.associate_id,
        )
    return live


def do_admit(db: Session, live: LiveSession, *, now: datetime | None = None) -> LiveSession:
    """The associate lets the shopper in: the session goes live for both."""
    now = now or utcnow()
    if live.kind is not SessionKind.CONSULTATION:
        raise InvalidInput("Only a consultation has a waiting screen.")
    if live.status is SessionStatus.ENDED:
        raise Conflict("This consultation has ended.", code="ended")
    if live.status is not SessionStatus.LIVE:
        live.status = SessionStatus.LIVE
        live.started_at = live.started_at or now
        db.add(live)
        db.commit()
        publish("session_state", live.room, status="live")
    return live


def do_transfer(
    db: Session, live: LiveSession, to_associate_id: int, *, now: datetime | None = None
) -> LiveSession:
    """Hand a running consultation to a colleague of the same brand who is present (online,
    their console open: auto-away) and under their cap of parallel conversations."""
    now = now or utcnow()
    colleague = db.get(AssociateProfile, to_associate_id)
    if colleague is None or colleague.brand_id != live.brand_id:
        raise NotFound("Choose a colleague from this brand.")
    if colleague.id == live.associate_id:
        raise InvalidInput("This consultation is already theirs.", field="associate_id")
    if live.status is SessionStatus.ENDED:
        raise Conflict("This consultation has ended.")
    if not can_take(db, colleague, now):
        raise Conflict(
            N_("%(name)s is away or has no free place right now."),
            params={"name": colleague.display_name},
        )
    previous = live.associate_id
    live.associate_id = to_associate_id
    db.add(live)
    if live.queue_request_id is not None:
        request = db.get(QueueRequest, live.queue_request_id)
        if request is not None:
            request.associate_id = to_associate_id
            db.add(request)
    db.commit()
    publish(
        "consultation_transferred",
        live.room,
        audience="room",
        live_session_id=live.id,
        from_associate_id=previous,
        to_associate_id=to_associate_id,
        name=colleague.display_name,
    )
    if live.shopper_id is not None:  # the shopper's one thread keeps the moment
        do_note_in_thread(
            db,
            live.brand_id,
            live.shopper_id,
            N_("Consultation handed to %(name)s"),
            {"name": colleague.display_name},
            now=now,
        )
    return live


def do_end_consultation(
    db: Session, live: LiveSession, *, now: datetime | None = None
) -> LiveSession:
    now = now or utcnow()
    if live.kind is not SessionKind.CONSULTATION:
        raise InvalidInput("Only a consultation can be ended here.")
    if live.status is not SessionStatus.ENDED:
        live.status = SessionStatus.ENDED
        live.ended_at = now
        db.add(live)
        if live.queue_request_id is not None:
            request = db.get(QueueRequest, live.queue_request_id)
            if request is not None:
                request.status = QueueStatus.CLOSED
                db.add(request)
        db.commit()
        publish("session_state", live.room, status="ended")
        if live.shopper_id is not None:
            activity.note_consultation_ended(db, live.brand_id, live.shopper_id, now=now)
        do_route(db, live.brand_id, now=now, changed=True)  # a freed place: shorter waits
        route_threads(db, live.brand_id, now=now)  # the freed place may take a chat
    return live
