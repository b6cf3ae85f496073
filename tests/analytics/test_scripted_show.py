"""A scripted show, summarised: every figure equals the one computed by hand below.

Everything goes through the real entry points: Socket.IO handlers (join, leave, chat,
hearts, pin, product click, add to bag), the HTTP checkout, this node's heartbeat,
and the shop's signed order webhook. The clock is frozen and moved by the script
(time-machine), so every timestamp is known. Timeline (the show runs 18:00-18:30):

    17:58 A joins (waiting room)         18:00 show starts
    18:02 B joins                        18:03:30 host pins P1
    18:04 B opens a 2nd tab (to 18:09)   18:05 A writes, host answers
    18:06 heartbeat                      18:07 B clicks P1   18:08 B adds P1 (120.00)
    18:10 C joins                        18:11 C writes, clicks P2
    18:12 heartbeat                      18:15 B leaves, B checks out
    18:16 A sends 3 hearts               18:20 C leaves; the shop confirms B's order
                                               (delivered twice)
    18:25 A adds 2 x P2 (2 x 50.00)      18:30 show ends
    18:40 A leaves, checks out (no order comes)
    19:00 E joins the replay             19:05 heartbeat, E clicks P1
    19:10 E adds P1 (replay)             19:50 E leaves, checks out
    19:55 the shop confirms E's order: 125.00 (shipping included)
    20:00 F joins the replay             20:10 F leaves
    20:30 the shop refunds 40.00 of E's order
    next day 10:00 C buys P2 from the product page (no show): influenced by the show
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlmodel import Session, col, select

from sessions.analytics import metrics
from sessions.models import CheckoutHandoff, LiveSession, Order, Show
from sessions.shows import lifecycle
from tests.analytics.conftest import SECRET, post_order
from tests.conftest import login
from tests.factories import OPERATOR, Factory
from web.sockets import heartbeats, state

T0 = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0, day: int = 0) -> datetime:
    return T0.replace(hour=hh, minute=mm, second=ss) + timedelta(days=day)


@dataclass
class Stage:
    app: Flask
    session: Session
    show: Show
    live: LiveSession
    host_email: str
    p1: int
    p1_variant: int
    p2: int
    p2_variant: int
    brand_id: int
    associate_id: int
    admin_email: str


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(at(17, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def stage(app: Flask, factory: Factory, session: Session, clock: time_machine.Traveller) -> Stage:
    app.config["ANALYTICS_HEARTBEAT_SECONDS"] = 0  # the script beats itself
    brand = factory.brand(currency="EUR")
    brand.webhook_secret = SECRET
    brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    brand.reservation_minutes = 120  # bags outlive the script
    session.add(brand)
    session.commit()
    host = factory.associate(brand)
    p1 = factory.product(brand, stock=10, price_minor=12000, name="Silk scarf")
    p2 = factory.product(brand, stock=10, price_minor=5000, name="Leather belt")
    show = factory.show(brand, starts_at=T0, duration_minutes=30, host_ids=[host.id])
    live = factory.live_session(show)
    admin = factory.admin(brand)
    stage = Stage(
        app,
        session,
        show,
        live,
        factory.user_of(host).email,
        p1.id,  # type: ignore[arg-type]
        factory.variants(p1)[0].id,  # type: ignore[arg-type]
        p2.id,  # type: ignore[arg-type]
        factory.variants(p2)[0].id,  # type: ignore[arg-type]
        brand.id,  # type: ignore[arg-type]
        host.id,  # type: ignore[arg-type]
        admin.email,
    )
    session.commit()
    return stage


class Person:
    """A shopper with a browser (HTTP cookie) and one socket per open tab."""

    def __init__(self, stage: Stage, connect: Callable[..., SocketIOTestClient]) -> None:
        self.stage = stage
        self.http: FlaskClient = stage.app.test_client()
        assert self.http.get(f"/api/live-sessions/{stage.live.id}").status_code == 200
        self._connect = connect
        self.tabs: list[SocketIOTestClient] = []

    def open_tab(self) -> SocketIOTestClient:
        tab = self._connect(http=self.http)
        self.tabs.append(tab)
        assert self.emit("join", tab=tab)["ok"]
        return tab

    def emit(self, event: str, tab: SocketIOTestClient | None = None, **data: object) -> dict:
        ack = (tab or self.tabs[-1]).emit(
            event, {"session_id": self.stage.live.id, **data}, callback=True
        )
        assert isinstance(ack, dict)
        return ack

    def close_tab(self, tab: SocketIOTestClient | None = None) -> None:
        tab = tab or self.tabs[-1]
        tab.disconnect()
        self.tabs.remove(tab)

    def leave(self) -> None:
        tab = self.tabs.pop()
        assert self.emit("leave", tab=tab)["ok"]
        tab.disconnect()

    def add(self, variant: int, quantity: int = 1, *, in_show: bool = True) -> None:
        if in_show:
            ack = self.emit("add_to_bag", variant_id=variant, quantity=quantity)
            assert ack["ok"], ack
        else:
            r = self.http.post("/api/bag/lines", json={"variant_id": variant, "quantity": quantity})
            assert r.status_code == 201, r.json

    def checkout(self) -> CheckoutHandoff:
        r = self.http.post("/api/bag/checkout", json={"brand_id": self.stage.brand_id})
        assert r.status_code == 200, r.json
        # A session of its own: the stage's objects must not be expired and reloaded later
        # (on SQLite a reload opens a transaction, which holds the write lock).
        with Session(self.stage.app.extensions["vitrine.engine"]) as db:
            handoff = db.exec(
                select(CheckoutHandoff).order_by(col(CheckoutHandoff.id).desc())
            ).first()
            assert handoff is not None
            db.expunge(handoff)
        return handoff


def beat(stage: Stage) -> None:
    heartbeats.beat(stage.app)


def order_body(order_id: str, total: int, **bag: int) -> dict[str, object]:
    return {
        "event": "order.created",
        "order_id": order_id,
        "lines": [{"sku": "SKU", "quantity": 1, "unit_price_minor": total}],
        "total_minor": total,
        "currency": "EUR",
        **bag,
    }


def run_script(
    stage: Stage, clock: time_machine.Traveller, connect: Callable[..., SocketIOTestClient]
) -> None:
    webhook = stage.app.test_client()
    clock.move_to(at(17, 58))
    a = Person(stage, connect)
    a.open_tab()
    clock.move_to(at(18, 0))
    lifecycle.do_start_show(stage.session, OPERATOR, stage.show)
    stage.session.commit()
    host = connect(stage.host_email)
    assert host.emit("join", {"session_id": stage.live.id}, callback=True)["role"] == "host"
    clock.move_to(at(18, 2))
    b = Person(stage, connect)
    b.open_tab()
    clock.move_to(at(18, 3, 30))
    pin = host.emit("pin", {"session_id": stage.live.id, "product_id": stage.p1}, callback=True)
    assert pin["ok"], pin
    clock.move_to(at(18, 4))
    second_tab = b.open_tab()
    clock.move_to(at(18, 5))
    assert a.emit("chat", body="Is it pure silk?")["ok"]
    host.emit("chat", {"session_id": stage.live.id, "body": "Yes, 100%."}, callback=True)
    clock.move_to(at(18, 6))
    beat(stage)
    clock.move_to(at(18, 7))
    assert b.emit("product_click", product_id=stage.p1)["ok"]
    clock.move_to(at(18, 8))
    b.add(stage.p1_variant)
    clock.move_to(at(18, 9))
    b.close_tab(second_tab)
    clock.move_to(at(18, 10))
    c = Person(stage, connect)
    c.open_tab()
    clock.move_to(at(18, 11))
    assert c.emit("chat", body="Does the belt come in brown?")["ok"]
    assert c.emit("product_click", product_id=stage.p2)["ok"]
    clock.move_to(at(18, 12))
    beat(stage)
    clock.move_to(at(18, 15))
    b.leave()
    b_handoff = b.checkout()
    clock.move_to(at(18, 16))
    for _ in range(3):
        assert a.emit("react")["ok"]
    state.delivery().flush()
    clock.move_to(at(18, 20))
    c.close_tab()
    first = post_order(
        webhook, stage.brand_id, order_body("SHOP-1", 12000, handoff_id=b_handoff.id)
    )
    assert first.status_code == 201, first.json
    again = post_order(
        webhook, stage.brand_id, order_body("SHOP-1", 12000, handoff_id=b_handoff.id)
    )
    assert again.status_code == 200 and again.json["duplicate"] is True
    clock.move_to(at(18, 25))
    a.add(stage.p2_variant, 2)
    clock.move_to(at(18, 30))
    lifecycle.do_end_show(stage.session, OPERATOR, stage.show)
    stage.session.commit()
    clock.move_to(at(18, 40))
    a.close_tab()
    a.checkout()
    clock.move_to(at(19, 0))
    e = Person(stage, connect)
    e.open_tab()
    clock.move_to(at(19, 5))
    beat(stage)
    assert e.emit("product_click", product_id=stage.p1)["ok"]
    clock.move_to(at(19, 10))
    e.add(stage.p1_variant)
    clock.move_to(at(19, 50))
    e.leave()
    e_handoff = e.checkout()
    clock.move_to(at(19, 55))
    second = post_order(
        webhook, stage.brand_id, order_body("SHOP-2", 12500, bag_id=e_handoff.bag_id)
    )
    assert second.status_code == 201 and second.json["mode"] == "replay", second.json
    clock.move_to(at(20, 0))
    f = Person(stage, connect)
    f.open_tab()
    clock.move_to(at(20, 10))
    f.close_tab()
    clock.move_to(at(20, 30))
    refund = {"event": "order.refunded", "order_id": "SHOP-2", "refunded_total_minor": 4000}
    assert post_order(webhook, stage.brand_id, refund).status_code == 200
    assert post_order(webhook, stage.brand_id, refund).json["refunded_minor"] == 4000
    clock.move_to(at(10, 0, day=1))
    c.add(stage.p2_variant, in_show=False)
    c_handoff = c.checkout()
    clock.move_to(at(10, 5, day=1))
    third = post_order(webhook, stage.brand_id, order_body("SHOP-3", 5000, bag_id=c_handoff.bag_id))
    assert third.json["attribution"] == "influenced", third.json
    host.disconnect()


def test_scripted_show_summary_equals_the_hand_computed_figures(
    stage: Stage,
    clock: time_machine.Traveller,
    connect: Callable[..., SocketIOTestClient],
    session: Session,
) -> None:
    run_script(stage, clock, connect)
    session.expire_all()
    live = session.get(LiveSession, stage.live.id)
    assert live is not None
    s = metrics.show_summary(session, live)

    # Live: A [18:00, 18:30] (joined 17:58, left 18:40) 1800 s; B [18:02, 18:15] with its
    # second tab inside 780 s; C [18:10, 18:20] 600 s. Replay: E 50 min capped at the
    # show's 30, 1800 s; F 600 s.
    assert s.length_seconds == 1800
    assert (s.unique_viewers, s.unique_viewers_live, s.unique_viewers_replay) == (5, 3, 2)
    assert s.live.watch_seconds_total == 1800 + 780 + 600
    assert s.live.watch_seconds_average == 3180 / 3
    assert s.replay.watch_seconds_total == 1800 + 600
    assert s.replay.watch_seconds_average == 1200
    assert s.watch_seconds_total == 5580 and s.watch_seconds_average == 5580 / 5
    assert s.peak_concurrent == 3  # A, B and C from 18:10 to 18:15
    assert s.average_concurrent == 3180 / 1800
    assert s.viewers_by_minute == [1] * 2 + [2] * 8 + [3] * 5 + [2] * 5 + [1] * 10
    assert [(p.minute, p.name) for p in s.pins] == [(3, "Silk scarf")]
    # Engagement: 3 messages (A, host, C), 2 by shoppers from 2 chatters; 3 hearts.
    assert (s.messages, s.messages_by_shoppers, s.chatters, s.hearts) == (3, 2, 2, 3)
    assert s.product_clicks == 3
    by_product = {p.name: (p.clicks, p.adds, p.add_value_minor) for p in s.products}
    assert by_product == {"Silk scarf": (2, 2, 24000), "Leather belt": (1, 1, 10000)}
    # Bag: B 120.00 and A 2 x 50.00 live, E 120.00 in the replay; three hand-offs.
    assert (s.add_to_bag_count, s.add_to_bag_value_minor) == (3, 34000)
    assert (s.live.add_to_bag_count, s.live.add_to_bag_value_minor) == (2, 22000)
    assert (s.replay.add_to_bag_count, s.replay.add_to_bag_value_minor) == (1, 12000)
    assert (s.handoffs, s.handoff_value_minor) == (3, 34000)
    # Orders: SHOP-1 120.00 (live, delivered twice: once), SHOP-2 125.00 - 40.00 (replay).
    assert (s.orders, s.revenue_minor, s.refunded_minor, s.buyers) == (2, 20500, 4000, 2)
    assert s.conversion == 2 / 5
    assert s.average_order_value_minor == 10250
    assert (s.live.orders, s.live.revenue_minor, s.live.conversion) == (1, 12000, 1 / 3)
    assert (s.replay.orders, s.replay.revenue_minor, s.replay.conversion) == (1, 8500, 1 / 2)
    assert (s.influenced_orders, s.influenced_revenue_minor) == (1, 5000)
    assert (s.funnel.viewers, s.funnel.engaged, s.funnel.added, s.funnel.ordered) == (5, 4, 3, 2)
    assert session.exec(select(Order)).all().__len__() == 3

    # The brand over the two days, and the two days before (nothing).
    brand = metrics.brand_summary(session, stage.brand_id, at(0, 0), at(0, 0, day=2))
    now = brand.current
    assert (now.shows, now.unique_viewers, now.messages, now.hearts) == (1, 5, 3, 3)
    assert now.watch_seconds_total == 5580
    # C's add from the product page counts for the brand, not for the show.
    assert (now.add_to_bag_count, now.add_to_bag_value_minor) == (4, 39000)
    assert (now.handoffs, now.handoff_value_minor) == (4, 39000)
    assert (now.orders, now.revenue_minor, now.refunded_minor) == (3, 25500, 4000)
    assert (now.attributed_revenue_minor, now.influenced_revenue_minor) == (20500, 5000)
    assert (now.buyers, now.conversion, now.average_order_value_minor) == (2, 2 / 5, 8500)
    assert brand.previous.orders == 0 and brand.previous.unique_viewers == 0
    assert [(r.title, r.revenue_minor) for r in brand.shows] == [(stage.show.title, 20500)]
    (host,) = brand.team
    assert (host.shows_hosted, host.consultations) == (1, 0)
    assert (host.bag_value_minor, host.attributed_revenue_minor) == (34000, 20500)


def test_the_api_serves_the_same_figures(
    stage: Stage,
    clock: time_machine.Traveller,
    connect: Callable[..., SocketIOTestClient],
    session: Session,
) -> None:
    run_script(stage, clock, connect)
    http = stage.app.test_client()
    login(http, stage.admin_email)
    show = http.get(f"/api/shows/{stage.show.id}/analytics")
    assert show.status_code == 200, show.json
    summary = show.json["summary"]
    assert (summary["unique_viewers"], summary["revenue_minor"]) == (5, 20500)
    assert summary["viewers_by_minute"][10:15] == [3] * 5
    period = http.get(
        f"/api/brands/{stage.brand_id}/analytics?start=2027-03-01&end=2027-03-02"
    ).json["summary"]
    assert period["current"]["revenue_minor"] == 25500
    assert period["previous"]["start"].startswith("2027-02-27")
    mine = connect(stage.host_email).http  # the associate reads their own figures
    own = mine.get(f"/api/associates/{stage.associate_id}/analytics?start=2027-03-01")
    assert own.status_code == 200 and own.json["summary"]["attributed_revenue_minor"] == 20500
    assert mine.get(f"/api/shows/{stage.show.id}/analytics").status_code == 403
