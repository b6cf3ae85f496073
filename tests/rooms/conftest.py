"""Fixtures for the live-room tests: a live show with a host, a product, socket clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlmodel import Session

from sessions.db import make_engine
from sessions.models import AssociateProfile, Brand, LiveSession, Product, Show, User, Variant
from sessions.shows import lifecycle
from tests.conftest import login
from tests.factories import OPERATOR, Factory
from tests.schema import install_schema
from web.extensions import socketio
from web.sockets import state


@dataclass
class Room:
    brand: Brand
    host: AssociateProfile
    host_user: User
    show: Show
    live: LiveSession
    product: Product
    variant: Variant

    @property
    def id(self) -> int:
        assert self.live.id is not None
        return self.live.id


@pytest.fixture
def room(factory: Factory, session: Session) -> Room:
    brand = factory.brand()
    brand.blocked_words = "spam\nfake news"
    brand.max_per_client = 10  # stock tests; the per-client cap: tests/security/
    session.add(brand)
    session.commit()
    host = factory.associate(brand)
    product = factory.product(brand, stock=5, name="Silk scarf")
    show = factory.show(brand, host_ids=[host.id], product_ids=[product.id])
    live = lifecycle.do_start_show(session, OPERATOR, show)
    made = Room(
        brand, host, factory.user_of(host), show, live, product, factory.variants(product)[0]
    )
    # On SQLite every transaction takes the write lock (BEGIN IMMEDIATE): end the read.
    session.commit()
    return made


def received(client: SocketIOTestClient, name: str) -> list[Any]:
    """Arguments of every `name` event the client got since the last call for `name`."""
    state.delivery().flush()  # deliver what the batch window holds now, not in 50 ms
    inbox: list[dict[str, Any]] = getattr(client, "inbox", [])
    inbox.extend(client.get_received())
    client.inbox = [p for p in inbox if p["name"] != name]  # type: ignore[attr-defined]
    return [p["args"][0] for p in inbox if p["name"] == name]


@pytest.fixture
def connect(app: Flask) -> Iterator[Callable[..., SocketIOTestClient]]:
    """connect(email=None) -> a Socket.IO test client signed in as staff, or as a new guest."""
    made: list[SocketIOTestClient] = []
    # Tests flush the batches themselves (see `received`), so the window never races them.
    state.delivery().window = 3600

    def make(email: str | None = None, http: FlaskClient | None = None) -> SocketIOTestClient:
        http = http or app.test_client()
        if email:
            login(http, email)
        else:
            http.get("/api/brands")
        sio = socketio.test_client(app, flask_test_client=http)
        sio.http = http  # type: ignore[attr-defined]
        made.append(sio)
        return sio

    yield make
    for sio in made:
        if sio.is_connected():
            sio.disconnect()


def guest(connect: Callable[..., SocketIOTestClient], app: Flask, room: Room) -> SocketIOTestClient:
    """A shopper: the GET on the session gives the browser its guest cookie first."""
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{room.id}").status_code == 200
    return connect(http=http)


def join(sio: SocketIOTestClient, room: Room, **extra: Any) -> dict[str, Any]:
    ack = sio.emit("join", {"session_id": room.id, **extra}, callback=True)
    assert isinstance(ack, dict)
    return ack


@dataclass
class Seeded:
    live_id: int
    host_email: str
    variant_id: int
    product_id: int


@pytest.fixture
def seeded(database_url: str) -> Iterator[Seeded]:
    engine = make_engine(database_url)
    install_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        brand.max_per_client = 10  # one shopper taps 8 times; the cap: tests/security/
        host = factory.associate(brand)
        product = factory.product(brand, stock=50)
        show = factory.show(brand, host_ids=[host.id], product_ids=[product.id])
        live = lifecycle.do_start_show(session, OPERATOR, show)
        variant = factory.variants(product)[0]
        email = factory.user_of(host).email
        session.commit()
        assert live.id is not None and variant.id is not None and product.id is not None
        yield Seeded(live.id, email, variant.id, product.id)
    engine.dispose()
