"""The room protocol through Flask-SocketIO's test client: chat, moderation, pins, hearts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.events import Event, bus
from sessions.models import ChatMessage, LiveSession, SessionKind
from tests.factories import Factory
from tests.rooms.conftest import Room, guest, join, received
from web.scheduler import scheduler_of

Connect = Callable[..., SocketIOTestClient]


@pytest.fixture
def offer_ended() -> Iterator[Callable[[], threading.Event]]:
    """offer_ended() -> an Event set when a flash offer's end is published. Subscribed
    after the node's delivery, so the room has been sent it by then."""
    sinks: list[Callable[[Event], None]] = []

    def watch() -> threading.Event:
        ended = threading.Event()

        def sink(event: Event) -> None:
            if event.kind == "offer" and event.data.get("offer") is None:
                ended.set()

        bus.subscribe(sink)
        sinks.append(sink)
        return ended

    yield watch
    for sink in sinks:
        bus.unsubscribe(sink)


def chat(sio: SocketIOTestClient, room: Room, body: object, client_id: str | None = None) -> dict:
    ack = sio.emit(
        "chat", {"session_id": room.id, "body": body, "client_id": client_id}, callback=True
    )
    assert isinstance(ack, dict)
    return ack


def test_chat_is_stored_then_broadcast_in_one_batch(
    app: Flask, connect: Connect, room: Room, session: Session
) -> None:
    host, shopper = connect(room.host_user.email), guest(connect, app, room)
    join(host, room)
    join(shopper, room)
    for n in range(3):
        assert chat(shopper, room, f"<b>hi</b> {n}")["ok"]
    batches = received(host, "messages")
    assert len(batches) == 1  # coalesced: one packet for three messages
    assert [m["body"] for m in batches[0]] == ["<b>hi</b> 0", "<b>hi</b> 1", "<b>hi</b> 2"]
    assert batches[0][0]["author_role"] == "shopper"
    stored = session.exec(select(ChatMessage).order_by(ChatMessage.id)).all()
    assert [m.id for m in stored] == [m["id"] for m in batches[0]]
    session.commit()


def test_history_on_join_and_exact_resume_after_last_id(
    app: Flask, connect: Connect, room: Room
) -> None:
    host = connect(room.host_user.email)
    join(host, room)
    ids = [chat(host, room, f"m{n}")["message"]["id"] for n in range(5)]
    late = guest(connect, app, room)
    assert [m["id"] for m in join(late, room)["history"]] == ids
    resumed = guest(connect, app, room)
    assert [m["id"] for m in join(resumed, room, last_id=ids[2])["history"]] == ids[3:]


def test_retry_with_same_client_id_is_not_stored_twice(
    app: Flask, connect: Connect, room: Room
) -> None:
    shopper = guest(connect, app, room)
    join(shopper, room)
    first = chat(shopper, room, "once", client_id="c-1")
    again = chat(shopper, room, "once", client_id="c-1")
    assert first["message"]["id"] == again["message"]["id"]
    assert len(join(shopper, room)["history"]) == 1


def test_bad_messages_are_refused_with_words(app: Flask, connect: Connect, room: Room) -> None:
    shopper = guest(connect, app, room)
    join(shopper, room)
    assert chat(shopper, room, "   ")["error"] == "invalid"
    assert chat(shopper, room, "x" * 501)["error"] == "invalid"
    assert chat(shopper, room, 42)["error"] == "invalid"
    assert chat(shopper, room, "this is SPAM")["error"] == "blocked_word"
    refused = shopper.emit("chat", "not an object", callback=True)
    assert refused["ok"] is False and refused["message"]
    outsider = guest(connect, app, room)
    assert chat(outsider, room, "hi")["error"] == "not_joined"


def test_chat_rate_is_limited_per_shopper(app: Flask, connect: Connect, room: Room) -> None:
    shopper = guest(connect, app, room)
    join(shopper, room)
    acks = [chat(shopper, room, f"m{n}") for n in range(6)]
    assert all(a["ok"] for a in acks[:5])
    assert acks[5]["error"] == "too_many_requests"


def test_shopper_cannot_host(app: Flask, connect: Connect, room: Room) -> None:
    shopper = guest(connect, app, room)
    join(shopper, room)
    sid = {"session_id": room.id}
    for event, extra in [
        ("pin", {"product_id": room.product.id}),
        ("push_product", {"product_id": room.product.id}),
        ("delete_message", {"message_id": 1}),
        ("mute", {"shopper_id": 1}),
        ("ban", {"shopper_id": 1}),
        (
            "start_offer",
            {"product_id": room.product.id, "price_minor": 1, "quantity": 1, "seconds": 10},
        ),
    ]:
        ack = shopper.emit(event, {**sid, **extra}, callback=True)
        assert ack["ok"] is False and ack["error"] in {"not_authenticated", "forbidden"}, event


def test_host_deletes_mutes_and_bans(
    app: Flask, connect: Connect, room: Room, session: Session
) -> None:
    host, shopper = connect(room.host_user.email), guest(connect, app, room)
    join(host, room)
    join(shopper, room)
    message = chat(shopper, room, "hello")["message"]
    shopper_id = shopper.http.get(f"/api/live-sessions/{room.id}").json and _shopper_id(
        session, message["id"]
    )
    assert host.emit(
        "delete_message", {"session_id": room.id, "message_id": message["id"]}, callback=True
    )["ok"]
    assert received(shopper, "message_deleted") == [{"id": message["id"]}]
    assert join(host, room)["history"] == []

    assert host.emit(
        "mute", {"session_id": room.id, "shopper_id": shopper_id, "minutes": 5}, callback=True
    )["ok"]
    assert received(shopper, "sanction")[0]["kind"] == "mute"
    assert chat(shopper, room, "still here?")["error"] == "mute"
    participants = received(host, "participants")[-1]
    assert participants == [{"shopper_id": shopper_id, "name": "Guest", "muted": True}]
    assert host.emit("unmute", {"session_id": room.id, "shopper_id": shopper_id}, callback=True)[
        "ok"
    ]
    assert chat(shopper, room, "thanks")["ok"]

    assert host.emit("ban", {"session_id": room.id, "shopper_id": shopper_id}, callback=True)["ok"]
    assert received(shopper, "sanction")[-1]["kind"] == "ban"
    assert chat(shopper, room, "let me in")["error"] == "not_joined"  # removed from the room
    assert join(shopper, room)["error"] == "banned"


def _shopper_id(session: Session, message_id: int) -> int:
    msg = session.get(ChatMessage, message_id)
    assert msg is not None and msg.shopper_id is not None
    session.commit()
    return msg.shopper_id


def test_consultation_admits_only_its_shopper_and_associate(
    app: Flask, connect: Connect, room: Room, factory: Factory, session: Session
) -> None:
    stranger_email = factory.user_of(factory.associate(factory.brand())).email
    session.commit()
    owner = guest(connect, app, room)
    join(owner, room)
    shopper_id = _shopper_id(session, chat(owner, room, "me")["message"]["id"])
    consult = LiveSession(
        brand_id=room.brand.id,
        kind=SessionKind.CONSULTATION,
        shopper_id=shopper_id,
        associate_id=room.host.id,
        room="consult-test",
        status="live",
    )
    session.add(consult)
    session.commit()
    ask = {"session_id": consult.id}
    assert owner.emit("join", ask, callback=True)["role"] == "viewer"
    assert connect(room.host_user.email).emit("join", ask, callback=True)["role"] == "host"
    assert guest(connect, app, room).emit("join", ask, callback=True)["error"] == "forbidden"
    stranger = connect(stranger_email)
    assert stranger.emit("join", ask, callback=True)["error"] == "forbidden"


def test_pins_push_and_stock_reach_every_viewer(
    app: Flask, connect: Connect, room: Room, factory: Factory
) -> None:
    second = factory.product(room.brand, stock=2, name="Bag")
    host, shopper = connect(room.host_user.email), guest(connect, app, room)
    join(host, room)
    join(shopper, room)
    assert host.emit("pin", {"session_id": room.id, "product_id": room.product.id}, callback=True)[
        "ok"
    ]
    assert host.emit("pin", {"session_id": room.id, "product_id": second.id}, callback=True)["ok"]
    pins = received(shopper, "pins")[-1]["pinned"]
    assert [p["id"] for p in pins] == [second.id, room.product.id]  # most recent first
    assert pins[0]["stock"] == 2 and pins[0]["variants"][0]["stock"] == 2
    host.emit("unpin", {"session_id": room.id, "product_id": second.id}, callback=True)
    assert [p["id"] for p in received(shopper, "pins")[-1]["pinned"]] == [room.product.id]
    pushed = host.emit(
        "push_product", {"session_id": room.id, "product_id": second.id}, callback=True
    )
    assert (
        pushed["message"]["kind"] == "product" and pushed["message"]["product"]["id"] == second.id
    )
    variant_id = pins[0]["variants"][0]["id"]
    add = {"session_id": room.id, "variant_id": variant_id, "quantity": 2}
    assert shopper.emit("add_to_bag", add, callback=True)["stock"]["stock"] == 0
    assert received(host, "stock")[-1] == {
        "product_id": second.id,
        "variant_id": variant_id,
        "stock": 0,
        "product_stock": 0,
    }
    assert received(host, "bag_event")[-1]["name"] == "Bag"
    sold_out = shopper.emit("add_to_bag", {**add, "quantity": 1}, callback=True)
    assert sold_out["ok"] is False and sold_out["error"] == "sold_out"
    assert sold_out["message"] == "Sold out."


def test_hearts_are_counted_and_sent_in_batches(
    app: Flask, connect: Connect, room: Room, session: Session
) -> None:
    host, shopper = connect(room.host_user.email), guest(connect, app, room)
    join(host, room)
    join(shopper, room)
    for _ in range(10):
        shopper.emit("react", {"session_id": room.id})
    assert received(host, "hearts") == [{"total": 10}]
    live = session.get(LiveSession, room.id)
    assert live is not None
    session.refresh(live)
    assert live.hearts == 10
    session.commit()


def test_flash_offer_ends_on_time_for_everyone(
    app: Flask, connect: Connect, room: Room, offer_ended: Callable[[], threading.Event]
) -> None:
    scheduler_of(app).start("offers")  # the app's scheduler ends offers (off by default in tests)
    host, shopper = connect(room.host_user.email), guest(connect, app, room)
    join(host, room)
    join(shopper, room)
    start = {
        "session_id": room.id,
        "product_id": room.product.id,
        "price_minor": 9000,
        "quantity": 1,
        "seconds": 3,
    }
    ended = offer_ended()
    ack = host.emit("start_offer", start, callback=True)
    assert ack["ok"], ack
    assert received(shopper, "offer")[-1]["remaining"] == 1
    add = {"session_id": room.id, "variant_id": room.variant.id, "quantity": 1}
    bag = shopper.emit("add_to_bag", add, callback=True)["bag"]
    assert bag["lines"][0]["unit_price_minor"] == 9000  # the offer price
    assert received(shopper, "offer")[-1]["remaining"] == 0
    bag = shopper.emit("add_to_bag", add, callback=True)["bag"]
    assert {line["unit_price_minor"] for line in bag["lines"]} == {9000, 12000}  # offer used up
    # The node's timer ends it: await that event (the timeout only guards a hang),
    # then the shopper has been told, and not before the offer's end.
    assert ended.wait(timeout=8), "the offer did not end"
    assert utcnow() >= datetime.fromisoformat(ack["offer"]["ends_at"])
    assert None in received(shopper, "offer")
    assert join(shopper, room)["state"]["offer"] is None
