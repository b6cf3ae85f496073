"""One routing engine for everything a shopper asks of the brand's people: a chat
thread or a talk-now request (chat or video).

Who may be offered a request: an associate of the brand who is online and present
(their console showed a sign of life within the brand's ``away_after_minutes``: a
closed or idle console is away, see ``is_present``), who works at the requested
store if one is asked for, and who is under their cap of parallel conversations,
counting chats and video together (``load_of``). Among them the speakers of the
shopper's language win (anyone if nobody speaks it), then the least loaded, then
the one idle longest. Whoever let the request pass is skipped until everyone free
has, then it goes round again rather than strand the shopper.

The callers (``sessions.service.queue`` for talk-now, ``sessions.service.threads`` for
chat) keep their own offer rows and conditional UPDATEs; this module only
answers who.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from sessions.models import (
    AssociateProfile,
    AssociateStatus,
    AssociateStore,
    Brand,
    LiveSession,
    QueueRequest,
    QueueStatus,
    SessionStatus,
    Store,
    Thread,
    ThreadStatus,
)
from sessions.service import availability as av
from sessions.service.hours import schedule_of

FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_AWAY_MINUTES = 10


@dataclass(frozen=True)
class Need:
    """What one request asks of whoever takes it."""

    brand_id: int
    language: str = "en"
    store_id: int | None = None
    passed: frozenset[int] = frozenset()  # associates who let it pass


def passed_ids(text: str) -> frozenset[int]:
    """The comma list of associate ids kept on a request's row."""
    return frozenset(int(x) for x in text.split(",") if x.strip().isdigit())


def passed_text(ids: frozenset[int] | set[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))


def _codes(text: str) -> set[str]:
    return {part.strip().lower() for part in text.split(",") if part.strip()}


# --- who is there ----------------------------------------------------------------------


def away_after(db: Session, brand_id: int) -> timedelta:
    brand = db.get(Brand, brand_id)
    minutes = brand.away_after_minutes if brand is not None else DEFAULT_AWAY_MINUTES
    return timedelta(minutes=minutes)


def is_present(profile: AssociateProfile, now: datetime, idle: timedelta) -> bool:
    """Online, with a console that showed a sign of life within `idle` (auto-away)."""
    seen = profile.console_seen_at
    return profile.status is AssociateStatus.ONLINE and seen is not None and now - seen <= idle


def present_associates(db: Session, brand_id: int, now: datetime) -> list[AssociateProfile]:
    idle = away_after(db, brand_id)
    online = db.exec(
        select(AssociateProfile)
        .where(
            AssociateProfile.brand_id == brand_id,
            AssociateProfile.status == AssociateStatus.ONLINE,
        )
        .order_by(col(AssociateProfile.id))
    ).all()
    return [p for p in online if is_present(p, now, idle)]


def load_of(db: Session, associate_id: int) -> int:
    """Conversations the associate holds or is being offered, chat and video together."""
    offered_requests = db.exec(
        select(func.count())
        .select_from(QueueRequest)
        .where(
            QueueRequest.associate_id == associate_id,
            QueueRequest.status == QueueStatus.OFFERED,
        )
    ).one()
    held_video = db.exec(
        select(func.count())
        .select_from(LiveSession)
        .join(QueueRequest, col(QueueRequest.id) == col(LiveSession.queue_request_id))
        .where(
            LiveSession.associate_id == associate_id,
            LiveSession.status != SessionStatus.ENDED,
        )
    ).one()
    held_threads = db.exec(
        select(func.count())
        .select_from(Thread)
        .where(Thread.associate_id == associate_id, Thread.status == ThreadStatus.ASSIGNED)
    ).one()
    offered_threads = db.exec(
        select(func.count())
        .select_from(Thread)
        .where(Thread.offered_to == associate_id, Thread.status == ThreadStatus.WAITING)
    ).one()
    return int(offered_requests) + int(held_video) + int(held_threads) + int(offered_threads)


def works_at(db: Session, associate_id: int, store_id: int) -> bool:
    link = db.exec(
        select(AssociateStore).where(
            AssociateStore.associate_id == associate_id, AssociateStore.store_id == store_id
        )
    ).first()
    return link is not None


def _at_store(db: Session, people: list[AssociateProfile], need: Need) -> list[AssociateProfile]:
    if need.store_id is None:
        return people
    return [p for p in people if p.id is not None and works_at(db, p.id, need.store_id)]


def anyone_for(db: Session, need: Need, now: datetime) -> bool:
    """Is somebody present who could take it, busy or not? (No: answer at once.)"""
    return bool(_at_store(db, present_associates(db, need.brand_id, now), need))


def eligible(db: Session, need: Need, now: datetime) -> list[AssociateProfile]:
    """Who could take the request now, best first (ignoring who let it pass)."""
    people = _at_store(db, present_associates(db, need.brand_id, now), need)
    language = need.language.lower()
    people = [p for p in people if language in _codes(p.languages)] or people
    loads = {p.id or 0: load_of(db, p.id or 0) for p in people}
    free = [p for p in people if loads[p.id or 0] < p.max_parallel_chats]
    return sorted(
        free, key=lambda p: (loads[p.id or 0], p.status_changed_at or FAR_PAST, p.id or 0)
    )


def choose(db: Session, need: Need, now: datetime) -> AssociateProfile | None:
    """The associate to offer the request to next, or None when nobody is free."""
    candidates = eligible(db, need, now)
    fresh = [p for p in candidates if p.id not in need.passed]
    # Everyone free has let it pass once: go round again rather than strand the shopper.
    chosen = fresh or candidates
    return chosen[0] if chosen else None


def can_take(db: Session, profile: AssociateProfile, now: datetime) -> bool:
    """Present and under their cap: a colleague a conversation may be handed to."""
    assert profile.id is not None
    idle = away_after(db, profile.brand_id)
    return is_present(profile, now, idle) and load_of(db, profile.id) < profile.max_parallel_chats


# --- the console's signs of life ----------------------------------------------------------


def do_console_seen(db: Session, profile: AssociateProfile, now: datetime) -> bool:
    """A console heartbeat. True when the associate was away and is back (route then)."""
    was_present = is_present(profile, now, away_after(db, profile.brand_id))
    db.exec(
        update(AssociateProfile)
        .where(col(AssociateProfile.id) == profile.id)
        .values(console_seen_at=now)
    )
    db.commit()
    db.refresh(profile)
    return not was_present and profile.status is AssociateStatus.ONLINE


def do_console_closed(db: Session, associate_id: int) -> None:
    """The associate's last console socket went: away at once, not after the idle time."""
    db.exec(
        update(AssociateProfile)
        .where(col(AssociateProfile.id) == associate_id)
        .values(console_seen_at=None)
    )
    db.commit()


# --- "back at" -------------------------------------------------------------------------------


def next_opening(db: Session, brand_id: int, now: datetime) -> datetime | None:
    """When the brand's next associate starts work, from everyone's hours and exceptions."""
    rows = db.exec(
        select(AssociateProfile, Store)
        .join(AssociateStore, col(AssociateStore.associate_id) == col(AssociateProfile.id))
        .join(Store, col(Store.id) == col(AssociateStore.store_id))
        .where(AssociateProfile.brand_id == brand_id)
    ).all()
    openings = []
    for profile, store in rows:
        opening = av.next_opening(schedule_of(db, profile, store), now)
        if opening is not None:
            openings.append(max(opening, now))
    later = [o for o in openings if o > now]
    return min(later) if later else (min(openings) if openings else None)
