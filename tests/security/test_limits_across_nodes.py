"""Chat and hearts limits hold across web nodes: one shopper whose two sockets land on
two real nodes sharing Redis has one budget, not one per node."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from sessions.db import create_all, make_engine
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory
from tests.rooms.live_clients import RoomClient, guest_http
from tests.servers import WebServer

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def live_id(database_url: str) -> Iterator[int]:
    """A live show in a database the real nodes will open."""
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        show = factory.show(brand, host_ids=[factory.associate(brand).id])
        live = lifecycle.do_start_show(session, OPERATOR, show)
        session.commit()
        assert live.id is not None
        yield live.id
    engine.dispose()


@pytest.mark.slow
@pytest.mark.redis
def test_one_shopper_on_two_nodes_has_one_chat_and_hearts_budget(
    database_url: str, tmp_path: Path, live_id: int
) -> None:
    run = uuid.uuid4().hex[:10]
    env = {
        "SOCKETIO_CHANNEL": f"test-{run}",
        "RATE_LIMIT_PREFIX": f"test-limits-{run}",  # counts of parallel runs stay apart
        # Windows far longer than the test: the budget, not the clock, decides.
        "CHAT_RATE_LIMIT": "5 per hour",
        "HEART_RATE_LIMIT": "4 per hour",
    }
    room = {"session_id": live_id}
    with (
        WebServer(database_url, tmp_path / "a", redis_url=REDIS_URL, env=env) as node_a,
        WebServer(
            database_url, tmp_path / "b", redis_url=REDIS_URL, env=env, create_schema=False
        ) as node_b,
    ):
        browser = guest_http(node_a.url, live_id)  # one cookie: one shopper
        on_a = RoomClient(node_a.url, browser).connect()
        on_b = RoomClient(node_b.url, browser).connect()
        try:
            assert on_a.call("join", room)["ok"] and on_b.call("join", room)["ok"]
            for n, node in enumerate([on_a, on_b, on_a, on_b, on_a]):
                sent = node.call("chat", {**room, "body": f"hello {n}"})
                assert sent["ok"], sent
            refused = on_b.call("chat", {**room, "body": "one too many"})
            assert refused["ok"] is False and refused["error"] == "too_many_requests", refused
            assert on_a.call("chat", {**room, "body": "and here"})["error"] == "too_many_requests"

            for node in (on_a, on_b, on_a, on_b):
                assert node.call("react", room)["ok"]
            assert on_b.call("react", room)["error"] == "too_many_requests"
            assert on_a.call("react", room)["error"] == "too_many_requests"
        finally:
            on_a.close()
            on_b.close()
