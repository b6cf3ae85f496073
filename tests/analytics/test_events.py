"""Recording viewing facts: a viewing whose node died ends at its last heartbeat; hosts are
not viewers; product clicks faster than a person could are refused, not stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session, func, select

from sessions.access import Actor, ActorKind
from sessions.analytics import events, metrics
from sessions.errors import TooManyRequests
from sessions.models import AnalyticsEvent
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory

T0 = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)


def test_a_viewing_without_a_leave_ends_at_its_last_heartbeat(
    factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    host = factory.associate(brand)
    host_actor = Actor(
        kind=ActorKind.ASSOCIATE, user_id=host.user_id, brand_id=brand.id, associate_id=host.id
    )
    viewer = Actor(kind=ActorKind.SHOPPER, shopper_id=factory.shopper().id)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False) as clock:
        show = factory.show(brand, starts_at=T0, host_ids=[host.id])
        live = factory.live_session(show)
        clock.move_to(T0)
        lifecycle.do_start_show(session, OPERATOR, show)
        assert events.do_record_join(session, host_actor, live, "host-socket") is False
        events.do_record_join(session, viewer, live, "sock-1")
        for minute in (1, 2, 3):  # its node beats, then dies: no leave ever comes
            clock.move_to(T0 + timedelta(minutes=minute))
            events.do_record_heartbeats(
                session, [events.Viewing(live.id, "sock-1", viewer.shopper_id)]
            )  # type: ignore[arg-type]
        clock.move_to(T0 + timedelta(minutes=30))
        lifecycle.do_end_show(session, OPERATOR, show)
        summary = metrics.show_summary(session, live)
    assert summary.unique_viewers == 1  # the host is not counted
    assert summary.live.watch_seconds_total == 180
    assert summary.viewers_by_minute[:4] == [1, 1, 1, 0]


def test_product_clicks_faster_than_a_person_are_refused(
    factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    product = factory.product(brand)
    show = factory.show(brand)
    live = lifecycle.do_start_show(session, OPERATOR, show)
    viewer = Actor(kind=ActorKind.SHOPPER, shopper_id=factory.shopper().id)
    for _ in range(20):
        events.do_record_product_click(session, viewer, live, product.id)
    with pytest.raises(TooManyRequests):
        events.do_record_product_click(session, viewer, live, product.id)
    stored = session.exec(
        select(func.count()).where(AnalyticsEvent.kind == events.PRODUCT_CLICK)
    ).one()
    assert stored == 20
