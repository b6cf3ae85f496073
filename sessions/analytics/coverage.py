"""Service coverage: the hours of each day when at least one associate was online to
answer live, and what became of the questions shoppers asked.

Counted from ``associate_status`` events (written by ``do_set_status``), the talk-now
queue and the messages left when nobody was online. Days are UTC days.
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


def questions(db: Session, brand_id: int, start: datetime, end: datetime) -> Questions:
    """Talk-now requests and left messages of the period, by what became of them.

    Answered live: an associate took the request. Answered later: a message left when
    nobody was online, answered by e-mail. Answered automatically: Vitrine has no
    automatic answers yet, so 0. Left waiting: the rest (expired, cancelled, unanswered).
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
    asked = len(requests) + len(messages)
    return Questions(asked, live, later, 0, asked - live - later)
