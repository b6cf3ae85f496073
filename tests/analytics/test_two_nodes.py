"""Counting across web nodes and restarts: events written through two real nodes, summed once.

Two web nodes (real processes, sharing PostgreSQL or the SQLite file, and Redis as in
a deployment) each take a viewer. The figures are computed from the stored rows, so
they are the same from the test process, from either node's API, and from a node
started after the first one stopped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from sessions.analytics import metrics
from sessions.db import create_all, make_engine
from sessions.models import AnalyticsEvent, LiveSession
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory
from tests.rooms.live_clients import RoomClient, guest_http, staff_http
from tests.servers import WebServer

REDIS_URL = "redis://127.0.0.1:6379/0"


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """A node writes the row after its socket closes; the database has no event to await."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def rows(engine: Engine, kind: str, live_id: int) -> int:
    with Session(engine) as db:
        return int(
            db.exec(
                select(func.count()).where(
                    AnalyticsEvent.kind == kind, AnalyticsEvent.live_session_id == live_id
                )
            ).one()
        )


@pytest.mark.slow
@pytest.mark.redis
def test_events_written_through_two_nodes_are_counted_once(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        product = factory.product(brand, stock=20, price_minor=4500)
        show = factory.show(brand, product_ids=[product.id])
        live = lifecycle.do_start_show(session, OPERATOR, show)
        variant_id, product_id, live_id = factory.variants(product)[0].id, product.id, live.id
        admin_email = factory.admin(brand).email
        session.commit()
    assert live_id is not None
    room = {"session_id": live_id}
    env = {"SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex[:10]}", "ANALYTICS_HEARTBEAT_SECONDS": "1"}
    with (
        WebServer(database_url, tmp_path / "a", redis_url=REDIS_URL, env=env) as node_a,
        WebServer(
            database_url, tmp_path / "b", redis_url=REDIS_URL, env=env, create_schema=False
        ) as node_b,
    ):
        on_a = RoomClient(node_a.url, guest_http(node_a.url, live_id)).connect()
        on_b = RoomClient(node_b.url, guest_http(node_b.url, live_id)).connect()
        try:
            assert on_a.call("join", room)["ok"]
            assert on_b.call("join", room)["ok"]
            assert on_b.call("chat", {**room, "body": "Hello from node B"})["ok"]
            assert on_a.call("product_click", {**room, "product_id": product_id})["ok"]
            added = on_a.call("add_to_bag", {**room, "variant_id": variant_id, "quantity": 2})
            assert added["ok"], added
            # Each node beats for its own viewer.
            wait_until(lambda: rows(engine, "heartbeat", live_id) >= 2, "heartbeats")
        finally:
            on_b.close()
            on_a.close()
        wait_until(lambda: rows(engine, "leave", live_id) == 2, "both leaves stored")
        admin_b = staff_http(node_b.url, admin_email)
        from_b = admin_b.get(f"{node_b.url}/api/shows/{show.id}/analytics", timeout=10).json()
    with Session(engine) as db:
        stored = db.get(LiveSession, live_id)
        assert stored is not None
        summary = metrics.show_summary(db, stored)
    assert (summary.unique_viewers, summary.unique_viewers_live) == (2, 2)
    assert summary.peak_concurrent == 2  # both had joined before either left
    assert (summary.messages, summary.product_clicks) == (1, 1)
    assert (summary.add_to_bag_count, summary.add_to_bag_value_minor) == (1, 9000)
    assert rows(engine, "join", live_id) == 2  # stored once each, by the node that saw it
    # Another node, started after the first two stopped, reads the same figures.
    with WebServer(database_url, tmp_path / "c", create_schema=False) as node_c:
        admin_c = staff_http(node_c.url, admin_email)
        from_c = admin_c.get(f"{node_c.url}/api/shows/{show.id}/analytics", timeout=10).json()
    for field in ("unique_viewers", "peak_concurrent", "messages", "add_to_bag_value_minor"):
        assert from_b["summary"][field] == from_c["summary"][field] == getattr(summary, field)
    engine.dispose()
