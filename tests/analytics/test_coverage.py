"""Service coverage: hours a day with someone online to answer, and what became of questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from sessions.analytics import metrics
from sessions.models import AssociateStatus, OfflineMessage, QueueRequest, QueueStatus
from sessions.service.queue import do_set_status
from tests.factories import Factory

DAY1 = datetime(2027, 3, 1, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return DAY1 + timedelta(days=day, hours=hour)


def test_coverage_is_the_union_of_online_hours_per_day(factory: Factory, session: Session) -> None:
    brand = factory.brand()
    paris, new_york, tokyo = (factory.associate(brand) for _ in range(3))
    online, away, offline = AssociateStatus.ONLINE, AssociateStatus.AWAY, AssociateStatus.OFFLINE
    do_set_status(session, tokyo, online, now=at(-1, 22))  # before the period: counts from 00:00
    do_set_status(session, tokyo, away, now=at(0, 1))
    do_set_status(session, paris, online, now=at(0, 8))
    do_set_status(session, new_york, online, now=at(0, 14))  # overlaps Paris 14:00-16:00
    do_set_status(session, paris, offline, now=at(0, 16))
    do_set_status(session, new_york, offline, now=at(1, 2))
    shopper = factory.shopper()
    assert brand.id is not None and shopper.id is not None
    session.add_all(
        [
            QueueRequest(
                brand_id=brand.id,
                shopper_id=shopper.id,
                status=QueueStatus.CLOSED,
                first_response_at=at(0, 9),
                created_at=at(0, 9),
            ),
            QueueRequest(
                brand_id=brand.id,
                shopper_id=shopper.id,
                status=QueueStatus.EXPIRED,
                created_at=at(0, 5),
            ),
            QueueRequest(
                brand_id=brand.id,
                shopper_id=shopper.id,
                status=QueueStatus.CANCELLED,
                created_at=at(1, 5),
            ),
            OfflineMessage(
                brand_id=brand.id,
                name="A",
                email="a@ex.com",
                body="?",
                created_at=at(0, 4),
                answered_at=at(0, 9),
            ),
            OfflineMessage(
                brand_id=brand.id, name="B", email="b@ex.com", body="?", created_at=at(1, 4)
            ),
        ]
    )
    session.commit()
    summary = metrics.brand_summary(session, brand.id, at(0, 0), at(2, 0))
    # Day 1: Tokyo 00-01, Paris 08-16, New York 14-24 -> 1 + 16 = 17 h; day 2: New York 00-02.
    assert [(d.day, d.covered_hours) for d in summary.coverage] == [
        ("2027-03-01", 17.0),
        ("2027-03-02", 2.0),
    ]
    assert summary.coverage_hours_average == 9.5
    q = summary.questions
    assert (q.asked, q.answered_live, q.answered_later, q.answered_automatically) == (5, 1, 1, 0)
    assert q.left_waiting == 3
    assert summary.previous_questions.asked == 0
