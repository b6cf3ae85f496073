"""A node's copy of a room's shared state (web/sockets/snapshots.py): the state GET is
answered from it until the room is told something, never later than its push, and a
change made without any push is seen once the copy's time is up. (Across two nodes:
tests/rooms/test_live_server.py, the hearts given on the other node.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.models import Product
from tests.conftest import login
from tests.factories import Factory
from tests.rooms.conftest import Room
from web.sockets.snapshots import RoomSnapshots


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def builder(values: list[int]) -> Callable[[], dict]:
    """A build that counts its calls: each returns the next number."""

    def build() -> dict:
        values.append(len(values) + 1)
        return {"n": values[-1]}

    return build


def test_the_copy_is_reused_until_told_or_stale() -> None:
    snapshots, clock, built = RoomSnapshots(1.0), Clock(), []
    snapshots.clock = clock
    build = builder(built)
    assert snapshots.get("live:1", build) == {"n": 1}
    assert snapshots.get("live:1", build) == {"n": 1}  # reused
    snapshots.told("messages", "live:1")  # chat and presence change nothing kept
    snapshots.told("presence", ["live:1"])
    assert snapshots.get("live:1", build) == {"n": 1}
    snapshots.told("pins", ["live:2", "live:1"])  # one emit to several rooms
    assert snapshots.get("live:1", build) == {"n": 2}
    snapshots.told("some_kind_added_later", "live:1")  # unknown kinds drop it too
    assert snapshots.get("live:1", build) == {"n": 3}
    clock.now += 0.99
    assert snapshots.get("live:1", build) == {"n": 3}
    clock.now += 0.02  # past the time: read again
    assert snapshots.get("live:1", build) == {"n": 4}
    assert snapshots.get("live:9", build) == {"n": 5}  # each room its own


def test_a_push_during_the_build_keeps_the_build_from_being_kept() -> None:
    """The build read the room before the change its push announces: that answer may be
    handed to this request, but must not serve the next ones."""
    snapshots = RoomSnapshots(60.0)

    def build_then_told() -> dict:
        snapshots.told("stock", "live:1")
        return {"stale": True}

    assert snapshots.get("live:1", build_then_told) == {"stale": True}
    assert snapshots.get("live:1", lambda: {"fresh": True}) == {"fresh": True}
    assert snapshots.get("live:1", lambda: {"never": True}) == {"fresh": True}


def test_zero_seconds_reads_every_time() -> None:
    snapshots, built = RoomSnapshots(0), []
    build = builder(built)
    assert [snapshots.get("live:1", build)["n"] for _ in range(3)] == [1, 2, 3]


@pytest.fixture
def snapshots(app: Flask) -> RoomSnapshots:
    held: RoomSnapshots = app.extensions["vitrine.room_snapshots"]
    held.ttl = 600.0  # longer than any test: only a push (or the moved clock) ends a copy
    held.clock = Clock()
    return held


def state(http: FlaskClient, room: Room) -> dict:
    response = http.get(f"/api/live-sessions/{room.id}")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_the_state_get_sees_each_change_of_this_node_at_once(
    app: Flask, room: Room, factory: Factory, session: Session, snapshots: RoomSnapshots
) -> None:
    shopper = app.test_client()
    assert state(shopper, room)["pinned"] == []
    other = factory.product(room.brand, name="Cashmere coat", stock=3)
    session.commit()
    host = app.test_client()
    login(host, room.host_user.email)
    pinned = host.post(f"/api/live-sessions/{room.id}/pins", json={"product_id": other.id})
    assert pinned.status_code == 201, pinned.get_json()
    cards = state(shopper, room)["pinned"]
    assert [c["name"] for c in cards] == ["Cashmere coat"]
    assert cards[0]["variants"][0]["stock"] == 3

    # A unit reserved: its stock push waits for the room's batch, the copy does not.
    variant_id = cards[0]["variants"][0]["id"]
    body = {"variant_id": variant_id, "quantity": 1, "live_session_id": room.id}
    assert shopper.post("/api/bag/lines", json=body).status_code == 201
    assert state(shopper, room)["pinned"][0]["variants"][0]["stock"] == 2


def test_a_change_without_a_push_is_seen_once_the_copy_is_stale(
    app: Flask, room: Room, session: Session, snapshots: RoomSnapshots
) -> None:
    host = app.test_client()
    login(host, room.host_user.email)
    url = f"/api/live-sessions/{room.id}"
    assert host.post(f"{url}/pins", json={"product_id": room.product.id}).status_code == 201
    shopper = app.test_client()
    assert state(shopper, room)["pinned"][0]["name"] == "Silk scarf"
    product = session.get(Product, room.product.id)
    assert product is not None
    product.name = "Silk twill scarf"  # the catalogue edited behind the room's back
    session.add(product)
    session.commit()
    assert state(shopper, room)["pinned"][0]["name"] == "Silk scarf"  # the copy, still fresh
    clock = snapshots.clock
    assert isinstance(clock, Clock)
    clock.now += 600.0
    assert state(shopper, room)["pinned"][0]["name"] == "Silk twill scarf"
