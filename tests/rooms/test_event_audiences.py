"""Each audience gets its events and nobody else does: a real web node, real Socket.IO clients.

Two brands' staff and two shoppers connect and all watch brand A's live show. One
representative event per audience: ``stock`` (the room), ``bag_event`` (the hosts),
``bag`` and ``queue_accepted`` (one shopper), ``queue_offer`` (one associate),
``message_left`` (brand A's staff). After each action the host chats a marker into the
show: every client gets the marker, so what a client has not received by then (events
reach one socket in the order they were sent) it was never sent. (The representatives are
sent at once; the batched kinds, chat and stock, go out on the room's next flush.)
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlmodel import Session

from sessions.clock import utcnow
from sessions.db import create_all, make_engine
from sessions.models import AssociateStatus
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory
from tests.rooms.live_clients import RoomClient, csrf_token, guest_http, staff_http
from tests.servers import WebServer

# What the clients listen for: the representative events, and the markers (chat messages).
HEARD = ("pins", "bag", "bag_event", "queue_offer", "queue_accepted", "message_left")


class Listener(RoomClient):
    EVENTS = (*RoomClient.EVENTS, *HEARD)

    def heard_until(self, marker: str, timeout: float = 20) -> list[str]:
        """Names of the HEARD events received before the chat message `marker`."""
        names: list[str] = []
        while True:
            try:
                name, data = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"marker {marker!r} never arrived") from None
            if name == "messages" and any(m["body"] == marker for m in data):
                return names
            if name in HEARD:
                names.append(name)


@dataclass
class World:
    brand_a: int
    live_id: int
    product_id: int
    variant_id: int
    emails: dict[str, str]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand_a, brand_b = factory.brand(), factory.brand()
        store = factory.store(brand_a)
        anna = factory.associate(brand_a, store, name="Anna")
        anna.status = AssociateStatus.ONLINE  # the one the talk-now request is offered to
        anna.console_seen_at = utcnow()  # her console is open (auto-away: routing.py)
        session.add(anna)
        bea = factory.associate(brand_a, store, name="Bea")  # offline colleague
        carl = factory.associate(brand_b, factory.store(brand_b), name="Carl")
        product = factory.product(brand_a, stock=20)
        show = factory.show(brand_a, host_ids=[anna.id], product_ids=[product.id])
        live = lifecycle.do_start_show(session, OPERATOR, show)
        emails = {
            "anna": factory.user_of(anna).email,
            "bea": factory.user_of(bea).email,
            "carl": factory.user_of(carl).email,
            "admin_a": factory.admin(brand_a).email,
            "admin_b": factory.admin(brand_b).email,
        }
        variant = factory.variants(product)[0]
        session.commit()
        assert brand_a.id and live.id and product.id and variant.id
        yield World(brand_a.id, live.id, product.id, variant.id, emails)
    engine.dispose()


def shopper_http(base: str, live_id: int) -> requests.Session:
    http = guest_http(base, live_id)
    http.headers["X-CSRFToken"] = csrf_token(http, base)
    return http


def heard(
    clients: dict[str, Listener], host: Listener, room: dict[str, int], marker: str
) -> dict[str, list[str]]:
    """The host chats `marker`; what each client heard before it."""
    assert host.call("chat", {**room, "body": marker})["ok"]
    return {who: client.heard_until(marker) for who, client in clients.items()}


def only(got: dict[str, list[str]], event: str) -> set[str]:
    return {who for who, names in got.items() if event in names}


@pytest.mark.slow
def test_each_audience_gets_its_events_and_nobody_else(
    database_url: str, tmp_path: Path, world: World
) -> None:
    with WebServer(database_url, tmp_path) as server:  # gevent, as deployed
        base, room = server.url, {"session_id": world.live_id}
        https: dict[str, requests.Session] = {
            who: staff_http(base, email) for who, email in world.emails.items()
        }
        https |= {who: shopper_http(base, world.live_id) for who in ("shopper_1", "shopper_2")}
        clients = {who: Listener(base, http).connect() for who, http in https.items()}
        try:
            roles = {who: client.call("join", room)["role"] for who, client in clients.items()}
            assert {who for who, role in roles.items() if role == "host"} == {
                "anna",
                "bea",
                "admin_a",
            }
            anna, s1 = clients["anna"], clients["shopper_1"]
            everyone = set(clients)

            # The room (pins), the hosts (bag_event), one shopper (bag).
            assert anna.call("pin", {**room, "product_id": world.product_id})["ok"]
            add = {**room, "variant_id": world.variant_id, "quantity": 1}
            assert s1.call("add_to_bag", add)["ok"]
            got = heard(clients, anna, room, "after the bag")
            assert only(got, "pins") == everyone
            # Brand A's staff may host any of its shows (can_host): they joined as hosts.
            assert only(got, "bag_event") == {"anna", "bea", "admin_a"}
            assert only(got, "bag") == {"shopper_1"}

            # One associate: the talk-now request is offered to Anna only.
            asked = https["shopper_1"].post(
                f"{base}/api/brands/{world.brand_a}/queue", json={"mode": "chat"}, timeout=10
            )
            assert asked.status_code == 200, asked.text
            got = heard(clients, anna, room, "after the request")
            assert only(got, "queue_offer") == {"anna"}

            # One shopper: the one whose request Anna accepts.
            accepted = https["anna"].post(
                f"{base}/api/queue/{asked.json()['id']}/accept", json={}, timeout=10
            )
            assert accepted.status_code == 200, accepted.text
            got = heard(clients, anna, room, "after the accept")
            assert only(got, "queue_accepted") == {"shopper_1"}

            # A brand's staff: a message left for brand A reaches its associates and admin.
            left = https["shopper_2"].post(
                f"{base}/api/brands/{world.brand_a}/messages",
                json={"name": "Camille", "email": "camille@example.com", "body": "Sizes?"},
                timeout=10,
            )
            assert left.status_code == 201, left.text
            got = heard(clients, anna, room, "after the message")
            assert only(got, "message_left") == {"anna", "bea", "admin_a"}
        finally:
            for client in clients.values():
                client.close()
