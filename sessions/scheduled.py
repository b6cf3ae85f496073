"""Timed work of the domain that has no other home yet: flash offers ending on time.

The app's scheduler (``web/scheduler.py``) calls these on a timer on every web
node. Each one claims its rows with a conditional UPDATE, so when several
nodes run the same job at once each row is handled, and its event published,
exactly once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from sessions.clock import utcnow
from sessions.events import publish
from sessions.live import current_offer
from sessions.models import FlashOffer, LiveSession


def do_end_due_offers(db: Session, now: datetime | None = None, limit: int = 100) -> int:
    """Announce the end of every flash offer whose time is up; returns how many this call ended.

    Claims, prices and the room state already read ``ends_at`` on the server's clock;
    this only tells the rooms, once per offer across every node."""
    now = now or utcnow()
    due = db.exec(
        select(FlashOffer.id, FlashOffer.live_session_id)
        .where(
            col(FlashOffer.ended_at).is_(None),
            col(FlashOffer.cancelled_at).is_(None),
            col(FlashOffer.ends_at) <= now,
        )
        .order_by(col(FlashOffer.ends_at))
        .limit(limit)
    ).all()
    db.commit()  # end the read: on SQLite it would hold the write lock
    ended = 0
    for offer_id, live_session_id in due:
        if _claim_end(db, offer_id, now):
            ended += 1
            _announce_end(db, offer_id, live_session_id)
    return ended


def _claim_end(db: Session, offer_id: int | None, now: datetime) -> bool:
    result = db.exec(
        update(FlashOffer)
        .where(col(FlashOffer.id) == offer_id, col(FlashOffer.ended_at).is_(None))
        .values(ended_at=now)
    )
    db.commit()
    return bool(result.rowcount == 1)


def _announce_end(db: Session, offer_id: int | None, live_session_id: int) -> None:
    live = db.get(LiveSession, live_session_id)
    # A newer offer already replaced this one in the room: nothing to take down.
    if live is not None and offer_id is not None and current_offer(db, live) is None:
        publish("offer", live.room, offer=None, offer_id=offer_id)
    db.commit()
