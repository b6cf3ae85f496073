"""The two holes found in the access rules, proved closed at the gate.

1. A consultation's shopper got a view grant for the associate's camera before being
   admitted, through the generic live-session grant endpoint (the waiting room was
   skipped). Every endpoint that answers a grant is walked here, with every body its
   schema allows: the waiting shopper gets none.
2. A brand's host could read the same shopper's bag at another brand (`access_bag`
   never compared brands). Tried by API, page and socket, and at the gate itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import product as combinations
from typing import Any, Literal, get_args, get_origin

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from pydantic import BaseModel
from sqlmodel import Session

from sessions.access import Actor, ActorKind, access_bag
from sessions.bags import open_bag
from sessions.errors import Forbidden
from sessions.grants import verify_grant
from sessions.models import SessionStatus
from tests.factories import Factory
from tests.security.consultation_world import (
    ADMIN_A,
    HOST,
    SHOPPER,
    World,
    consultation,
    make_world,
)
from web.api.spec import OPERATIONS, Operation
from web.extensions import socketio

SECRET = "test-media-secret"
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@pytest.fixture
def world(app: Flask, factory: Factory, session: Session) -> World:
    return make_world(app, factory, session)


@pytest.fixture
def sockets(app: Flask) -> Iterator[list[SocketIOTestClient]]:
    made: list[SocketIOTestClient] = []
    yield made
    for sio in made:
        if sio.is_connected():
            sio.disconnect()


def grant_operations() -> list[Operation]:
    """Every API operation whose answer carries a relay grant."""

    def answers_grant(op: Operation) -> bool:
        model = op.response
        return (
            isinstance(model, type)
            and issubclass(model, BaseModel)
            and ("grant" in model.model_fields)
        )

    return [op for op in OPERATIONS if answers_grant(op)]


def every_body(op: Operation) -> list[dict[str, Any]]:
    """Each combination of the values the body's choice fields (Literal) allow."""
    assert op.body is not None
    choices = {
        name: get_args(info.annotation)
        for name, info in op.body.model_fields.items()
        if get_origin(info.annotation) is Literal
    }
    return [dict(zip(choices, values, strict=True)) for values in combinations(*choices.values())]


def grant_url(op: Operation, live_session_id: int) -> str:
    return "/api" + PARAM.sub(str(live_session_id), op.rule)


def contains_key(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(contains_key(v, key) for v in value.values())
    if isinstance(value, list):
        return any(contains_key(v, key) for v in value)
    return False


def test_every_grant_endpoint_is_walked() -> None:
    rules = {op.rule for op in grant_operations()}
    assert "/live-sessions/<int:live_session_id>/media-grant" in rules
    assert "/consultations/<int:consultation_id>/media-grant" in rules


def test_a_waiting_shopper_gets_no_media_grant_from_any_endpoint(
    world: World, session: Session, sockets: list[SocketIOTestClient], app: Flask
) -> None:
    shopper = world.as_(SHOPPER)
    live_id = world.consultation_id
    arrived = shopper.post(f"/api/consultations/{live_id}/arrive")
    assert arrived.status_code == 200 and arrived.json["shopper_waiting"] is True
    given = []
    for op in grant_operations():
        for body in every_body(op):
            answer = shopper.post(grant_url(op, live_id), json=body)
            if answer.status_code != 403 or "grant" in (answer.json or {}):
                given.append((op.rule, body, answer.status_code))
    assert given == [], f"a waiting shopper got an answer other than 403: {given}"
    # The socket path: joining the consultation's room hands out no grant either.
    sio = socketio.test_client(app, flask_test_client=shopper)
    sockets.append(sio)
    ack = sio.emit("join", {"session_id": live_id}, callback=True)
    assert ack["ok"] is True and not contains_key(ack, "grant")
    assert consultation(session, world).status is SessionStatus.WAITING


def test_an_admitted_shopper_gets_exactly_their_own_two_grants(
    world: World, session: Session
) -> None:
    live_id = world.consultation_id
    assert world.as_(HOST).post(f"/api/consultations/{live_id}/admit").status_code == 200
    room = consultation(session, world).room
    shopper = world.as_(SHOPPER)
    generic = f"/api/live-sessions/{live_id}/media-grant"
    consult = f"/api/consultations/{live_id}/media-grant"
    allowed = {
        (generic, "view", ""): room,
        (generic, "publish", "shopper"): f"{room}-shopper",
        (consult, "view", "associate"): room,
        (consult, "publish", "shopper"): f"{room}-shopper",
    }
    for (url, role, side), expected_room in allowed.items():
        body = {"role": role, ("side" if url == consult else "room_suffix"): side}
        answer = shopper.post(url, json=body)
        assert answer.status_code == 200, (url, body, answer.json)
        grant = verify_grant(SECRET, answer.json["grant"])
        assert (grant.room, grant.role) == (expected_room, role)
    for url, body in [
        (generic, {"role": "publish", "room_suffix": ""}),
        (generic, {"role": "view", "room_suffix": "shopper"}),
        (consult, {"role": "publish", "side": "associate"}),
        (consult, {"role": "view", "side": "shopper"}),
    ]:
        assert shopper.post(url, json=body).status_code == 403, (url, body)


# --- bags across brands ---------------------------------------------------------------


def fill_bags(world: World) -> None:
    """The consultation's shopper has a bag at brand A and another at brand B."""
    shopper = world.as_(SHOPPER)
    for variant_id in (world.variant_a, world.variant_b):
        added = shopper.post("/api/bag/lines", json={"variant_id": variant_id})
        assert added.status_code == 201, added.json


def bag_text(client: FlaskClient, brand_id: int | None, live_id: int) -> tuple[int, str]:
    answer = client.get(f"/api/bag?brand_id={brand_id}&live_session_id={live_id}")
    return answer.status_code, answer.get_data(as_text=True)


def test_a_host_cannot_read_the_shoppers_bag_at_another_brand_by_api(world: World) -> None:
    fill_bags(world)
    secret = world.product_b.name
    for who in (HOST, ADMIN_A):
        status, text = bag_text(world.as_(who), world.brand_b.id, world.consultation_id)
        assert status == 403 and secret not in text, (who, status, text[:300])
        # The control: the same consultation opens the bag at its own brand.
        status, text = bag_text(world.as_(who), world.brand_a.id, world.consultation_id)
        assert status == 200 and world.product_a.name in text, (who, status)
        assert secret not in text
    status, text = bag_text(world.as_(SHOPPER), world.brand_b.id, world.consultation_id)
    assert status == 200 and secret in text, "the shopper reads their own bag at brand B"


def test_a_host_cannot_read_the_shoppers_bag_at_another_brand_by_page_or_socket(
    world: World, app: Flask, sockets: list[SocketIOTestClient]
) -> None:
    fill_bags(world)
    secret = world.product_b.name
    host = world.as_(HOST)
    for url in (f"/console/consult/{world.consultation_id}", f"/b/{world.brand_b.slug}/bag"):
        page = host.get(url)
        assert page.status_code == 200 and secret not in page.get_data(as_text=True), url
    sio = socketio.test_client(app, flask_test_client=host)
    sockets.append(sio)
    ack = sio.emit("join", {"session_id": world.consultation_id}, callback=True)
    assert ack["ok"] is True and ack["role"] == "host"
    names = [line["name"] for line in ack["state"]["bag"]["lines"]]
    assert names == [world.product_a.name], "the room shows its own brand's bag only"


def test_the_bag_gate_compares_the_consultations_brand_with_the_bags(
    world: World, session: Session
) -> None:
    fill_bags(world)
    live = consultation(session, world)
    assert live.shopper_id is not None and world.brand_b.id is not None
    bag_b = open_bag(session, world.brand_b.id, live.shopper_id)
    assert bag_b is not None
    host = Actor(
        kind=ActorKind.ASSOCIATE,
        user_id=world.host.user_id,
        brand_id=world.brand_a.id,
        associate_id=world.host.id,
    )
    with pytest.raises(Forbidden):
        access_bag(host, bag_b, live)
