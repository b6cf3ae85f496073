"""A small finished show with viewers, adds, a hand-off and an order, written through the
domain actions at known moments (the clock is moved with time-machine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import time_machine
from sqlmodel import Session

from sessions import bags
from sessions.access import Actor, ActorKind
from sessions.analytics import events, orders
from sessions.models import Brand, Show
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory


@dataclass
class SeededShow:
    show: Show
    start: datetime
    viewers: int
    revenue_minor: int


def seed_show(session: Session, factory: Factory, brand: Brand, start: datetime) -> SeededShow:
    """A 30-minute show from `start`: three viewers, two buy-ins, one order of 120.00."""
    brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    brand.reservation_minutes = 240
    session.add(brand)
    session.commit()
    product = factory.product(brand, stock=10, price_minor=12000, name="Silk scarf")
    variant = factory.variants(product)[0]
    shoppers = [factory.shopper() for _ in range(3)]
    actors = [Actor(kind=ActorKind.SHOPPER, shopper_id=s.id) for s in shoppers]
    with time_machine.travel(start - timedelta(hours=1), tick=False) as clock:
        show = factory.show(brand, title="Spring silks", starts_at=start, duration_minutes=30)
        live = factory.live_session(show)
        clock.move_to(start)
        lifecycle.do_start_show(session, OPERATOR, show)
        for n, actor in enumerate(actors):
            clock.move_to(start + timedelta(minutes=2 * n))
            events.do_record_join(session, actor, live, f"view-{n}")
        clock.move_to(start + timedelta(minutes=5))
        session.add(events.event_for(live, events.PIN, product_id=product.id))
        session.commit()
        clock.move_to(start + timedelta(minutes=8))
        for actor in actors[:2]:
            bags.do_add_to_bag(session, actor, variant_id=variant.id, live=live)
        clock.move_to(start + timedelta(minutes=12))
        handoff = bags.prepare_checkout(session, actors[0], brand)
        record = bags.do_complete_checkout(session, handoff, brand)
        for n, actor in enumerate(actors):
            clock.move_to(start + timedelta(minutes=20 + n))
            events.do_record_leave(session, actor, live.id, f"view-{n}")  # type: ignore[arg-type]
        clock.move_to(start + timedelta(minutes=25))
        orders.do_receive_order(
            session,
            brand,
            orders.NewOrder("SHOP-77", 12000, brand.currency, [], handoff_id=record.id),
        )
        clock.move_to(start + timedelta(minutes=30))
        lifecycle.do_end_show(session, OPERATOR, show)
    session.commit()
    return SeededShow(show, start, 3, 12000)
