"""A node's copy of a room's shared state (web/sockets/snapshots.py): the state GET is
answered from it until the room is told something, never later than its push, and a
change made without any push is seen once the copy's time is up. (Across two nodes:
tests/rooms/test_live_server.py, the hearts given on the other node.)"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.models import BrandText, Product, Show
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


def test_a_tell_to_the_room_drops_every_part_kept_for_it() -> None:
    snapshots, built = RoomSnapshots(60.0), []
    build = builder(built)
    assert snapshots.get("live:1", build)["n"] == 1
    assert snapshots.get("live:1", build, part="featured")["n"] == 2  # a part of its own
    assert snapshots.get("live:1", build, part="featured")["n"] == 2
    assert snapshots.get("live:1", build)["n"] == 1
    snapshots.told("stock", "live:1")
    assert snapshots.get("live:1", build, part="featured")["n"] == 3
    assert snapshots.get("live:1", build)["n"] == 4


def test_the_show_page_lists_the_shows_pieces_from_the_copy_until_the_room_is_told(
    app: Flask, room: Room, session: Session, snapshots: RoomSnapshots
) -> None:
    """Nothing pinned (a show just started): the page lists the show's own pieces, the same
    for every viewer, kept with the room's state and dropped by the same pushes."""
    page_url = f"/b/{room.brand.slug}/shows/{room.show.id}"
    shopper = app.test_client()
    first = shopper.get(page_url).get_data(as_text=True)
    assert "Silk scarf" in first and "5 in stock" in first
    product = session.get(Product, room.product.id)
    assert product is not None
    product.name = "Silk twill scarf"  # behind the room's back: no push
    session.add(product)
    session.commit()
    assert "Silk scarf" in app.test_client().get(page_url).get_data(as_text=True)  # the copy
    body = {"variant_id": room.variant.id, "quantity": 1, "live_session_id": room.id}
    assert shopper.post("/api/bag/lines", json=body).status_code == 201  # tells the room
    after = app.test_client().get(page_url).get_data(as_text=True)
    assert "Silk twill scarf" in after and "4 in stock" in after


def test_the_show_page_keeps_its_title_and_hosts_name_with_the_room_in_each_language(
    app: Flask, room: Room, session: Session, snapshots: RoomSnapshots
) -> None:
    """The show's title (in the reader's language) and the host's name are alike for
    every viewer: kept per node and language with the room's state, dropped by a push."""
    page_url = f"/b/{room.brand.slug}/shows/{room.show.id}"
    shopper = app.test_client()
    assert room.show.title in shopper.get(page_url).get_data(as_text=True)
    show = session.get(Show, room.show.id)
    assert show is not None
    old_title, show.title = show.title, "Silk, after dark"  # behind the room's back
    session.add(show)
    french_title = BrandText(
        brand_id=room.brand.id, kind="show", object_id=show.id, field="title", language="fr"
    )
    french_title.text = "Soie du soir"
    session.add(french_title)
    session.commit()
    assert old_title in app.test_client().get(page_url).get_data(as_text=True)  # the copy
    french = app.test_client().get(f"{page_url}?lang=fr").get_data(as_text=True)
    assert "Soie du soir" in french  # another language: a part of its own
    body = {"variant_id": room.variant.id, "quantity": 1, "live_session_id": room.id}
    assert shopper.post("/api/bag/lines", json=body).status_code == 201  # tells the room
    after = app.test_client().get(page_url).get_data(as_text=True)
    assert "Silk, after dark" in after and old_title not in after
    assert room.host.display_name in after


class Burst:
    """Callers of ``snapshots.get`` in threads, and a way to know they are waiting on the
    build under way (the snapshots' ``on_wait`` hook): no guessing with sleeps."""

    def __init__(self, snapshots: RoomSnapshots) -> None:
        self.snapshots = snapshots
        self.waiting = 0
        self.lock = threading.Lock()
        self.all_waiting = threading.Event()
        self.expected = 0
        self.threads: list[threading.Thread] = []
        self.results: list[object] = []

    def _waits(self) -> None:
        with self.lock:
            self.waiting += 1
            if self.waiting == self.expected:
                self.all_waiting.set()

    def start(self, build: Callable[[], dict], n: int = 1) -> None:
        def call() -> None:
            try:
                self.results.append(self.snapshots.get("live:1", build))
            except Exception as exc:  # handed back to the test
                self.results.append(exc)

        for _ in range(n):
            thread = threading.Thread(target=call)
            thread.start()
            self.threads.append(thread)

    def join(self) -> list[object]:
        for thread in self.threads:
            thread.join(30)
        return self.results


class HeldBuild:
    """A build that holds until let go; then each call returns the next number."""

    def __init__(self) -> None:
        self.started, self.go, self.calls = threading.Event(), threading.Event(), 0

    def __call__(self) -> dict:
        self.calls += 1
        n = self.calls
        if n == 1:
            self.started.set()
            assert self.go.wait(30)
        return {"n": n}


def test_requests_arriving_during_a_build_wait_for_it_instead_of_building() -> None:
    snapshots, build = RoomSnapshots(60.0), HeldBuild()
    first, others = Burst(snapshots), Burst(snapshots)
    first.start(build)
    assert build.started.wait(30)
    others.expected = 8
    snapshots.on_wait = others._waits
    others.start(build, 8)
    assert others.all_waiting.wait(30)  # all eight are waiting on the first one's build
    build.go.set()
    assert first.join() == [{"n": 1}]
    assert others.join() == [{"n": 1}] * 8
    assert build.calls == 1  # one read of the room for all nine


def test_a_push_during_the_build_sends_its_waiters_to_read_the_room_themselves() -> None:
    snapshots, build = RoomSnapshots(60.0), HeldBuild()
    first, others = Burst(snapshots), Burst(snapshots)
    first.start(build)
    assert build.started.wait(30)
    others.expected = 3
    snapshots.on_wait = others._waits
    others.start(build, 3)
    assert others.all_waiting.wait(30)
    snapshots.told("pins", "live:1")  # the build under way may have read before this
    build.go.set()
    assert first.join() == [{"n": 1}]  # its own answer: as a direct read would be
    got = sorted(r["n"] for r in others.join() if isinstance(r, dict))
    assert got == [2, 3, 4]  # nobody took what was read before the push


def test_a_failed_build_leaves_its_waiters_to_read_the_room_themselves() -> None:
    snapshots = RoomSnapshots(60.0)
    started, gate = threading.Event(), threading.Event()

    def failing() -> dict:
        started.set()
        assert gate.wait(30)
        raise RuntimeError("database went away")

    first, second = Burst(snapshots), Burst(snapshots)
    first.start(failing)
    assert started.wait(30)
    second.expected = 1
    snapshots.on_wait = second._waits
    second.start(lambda: {"n": 2})
    assert second.all_waiting.wait(30)
    gate.set()
    assert [type(r) for r in first.join()] == [RuntimeError]
    assert second.join() == [{"n": 2}]
