"""Service coverage: the hours of each day when at least one associate was online to
answer live, and what became of the questions shoppers asked.

Counted from ``associate_status`` events (written by ``do_set_status``), the talk-now
queue, the chat threads (their automatic answers included) and the messages left when
nobody was online. Days are UTC days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from sessions.analytics.events import ASSOCIATE_STATUS
from sessions.models import (
    AnalyticsEvent,
    AssociateStatus,
    OfflineMessage,
    QueueRequest,
    QueueStatus,
    Thread,
    ThreadMessage,
    ThreadMessageKind,
    ThreadSide,
)

Span = tuple[datetime, datetime]
ONLINE = AssociateStatus.ONLINE.value


@dataclass
class DayCoverage:
    day: str
    covered_hours: float


@dataclass
class Questions:
    asked: int
    answered_live: int
    answered_later: int
    answered_automatically: int
    left_waiting: int
    # Chat threads asked in the period (counted in `asked` too), and of those answered
    # automatically, how many an associate picked up afterwards.
    chat_threads: int = 0
    picked_up_after_automatic: int = 0
    automatic_share: float = 0.0  # answered_automatically / chat_threads


def online_spans(db: Session, brand_id: int, start: datetime, end: datetime) -> list[Span]:
    """Each associate's online spans within [start, end), the status before `start` included."""
    rows = db.exec(
        select(AnalyticsEvent.associate_id, AnalyticsEvent.detail, AnalyticsEvent.created_at)
        .where(
            AnalyticsEvent.brand_id == brand_id,
            AnalyticsEvent.kind == ASSOCIATE_STATUS,
            AnalyticsEvent.created_at < end,
        )
        .order_by(col(AnalyticsEvent.created_at), col(AnalyticsEvent.id))
    ).all()
    since: dict[int | None, datetime] = {}
    spans: list[Span] = []
    for associate_id, status, at in rows:
        opened = since.pop(associate_id, None)
        if opened is not None:
            spans.append((opened, at))
        if status == ONLINE:
            since[associate_id] = at
    spans.extend((opened, end) for opened in since.values())  # still online at the end
    return [(max(a, start), min(b, end)) for a, b in spans if min(b, end) > max(a, start)]


def _union_seconds(spans: list[Span]) -> float:
    total, reach = 0.0, None
    for a, b in sorted(spans):
        if reach is not None and a < reach:
            a = reach
        if b > a:
            total += (b - a).total_seconds()
            reach = b
    return total


def coverage_by_day(
    db: Session, brand_id: int, start: datetime, end: datetime
) -> list[DayCoverage]:
    """For each day of [start, end): hours with at least one associate online."""
    spans = online_spans(db, brand_id, start, end)
    days = []
    day = start
    while day < end:
        nxt = min(day + timedelta(days=1), end)
        inside = [(max(a, day), min(b, nxt)) for a, b in spans if min(b, nxt) > max(a, day)]
        days.append(DayCoverage(day.date().isoformat(), round(_union_seconds(inside) / 3600, 2)))
        day = nxt
    return days


@dataclass
class _ThreadOutcomes:
    asked: int = 0
    live: int = 0
    automatic: int = 0
    picked_up: int = 0


def thread_outcomes(db: Session, brand_id: int, start: datetime, end: datetime) -> _ThreadOutcomes:
    """What became of the chat threads a shopper wrote in during [start, end), from their
    first shopper message of the period on, messages of the period only: *automatic* when
    an automatic answer was posted (*picked up* when an associate wrote after it), else
    *live* when an associate answered, else left waiting."""
    rows = db.exec(
        select(ThreadMessage.thread_id, ThreadMessage.side, ThreadMessage.kind)
        .join(Thread, col(Thread.id) == col(ThreadMessage.thread_id))
        .where(
            Thread.brand_id == brand_id,
            ThreadMessage.created_at >= start,
            ThreadMessage.created_at < end,
        )
        .order_by(col(ThreadMessage.thread_id), col(ThreadMessage.id))
    ).all()
    out = _ThreadOutcomes()
    state: dict[int, str] = {}  # thread -> asked, live, automatic, picked_up
    for thread_id, side, kind in rows:
        now = state.get(thread_id)
        if now is None:
            if side == ThreadSide.SHOPPER:
                state[thread_id] = "asked"
            continue
        if kind == ThreadMessageKind.AUTOMATIC and now in ("asked", "live"):
            state[thread_id] = "automatic"
        elif side == ThreadSide.STAFF:
            state[thread_id] = {"asked": "live", "automatic": "picked_up"}.get(now, now)
    for final in state.values():
        out.asked += 1
        out.live += final == "live"
        out.automatic += final in ("automatic", "picked_up")
        out.picked_up += final == "picked_up"
    return out


def questions(db: Session, brand_id: int, start: datetime, end: datetime) -> Questions:
    """Talk-now requests and left messages of the period, by what became of them.

    Answered live: an associate took the request, or answered the chat thread. Answered
    later: a message left when nobody was online, answered by e-mail. Answered
    automatically: a chat thread that got the automatic answer (``thread_outcomes``).
    Left waiting: the rest (expired, cancelled, unanswered).
    """
    requests = db.exec(
        select(QueueRequest.status, QueueRequest.first_response_at).where(
            QueueRequest.brand_id == brand_id,
            QueueRequest.created_at >= start,
            QueueRequest.created_at < end,
        )
    ).all()
    messages = db.exec(
        select(OfflineMessage.answered_at).where(
            OfflineMessage.brand_id == brand_id,
            OfflineMessage.created_at >= start,
            OfflineMessage.created_at < end,
        )
    ).all()
    live = sum(
        1
        for status, answered in requests
        if answered is not None or status in (QueueStatus.ACCEPTED, QueueStatus.CLOSED)
    )
    later = sum(1 for answered in messages if answered is not None)
    chats = thread_outcomes(db, brand_id, start, end)
    asked = len(requests) + len(messages) + chats.asked
    live += chats.live
    return Questions(
        asked=asked,
        answered_live=live,
        answered_later=later,
        answered_automatically=chats.automatic,
        left_waiting=asked - live - later - chats.automatic,
        chat_threads=chats.asked,
        picked_up_after_automatic=chats.picked_up,
        automatic_share=chats.automatic / chats.asked if chats.asked else 0.0,
    )
