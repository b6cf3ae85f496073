"""Requests that only read (a show's state, page and chat history) read in autocommit:
no transaction, on SQLite not the write lock; a write from one is refused, and the one
write such a read may need (an expired reservation given back) happens in a session of
its own (sessions/db.py, web/db.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import event, text, update
from sqlmodel import Session

from sessions.clock import utcnow
from sessions.db import WRITER_BIND, WriteWhileReadsOnly, is_sqlite
from sessions.events import Event
from sessions.models import ChatMessage, StockReservation, Variant
from tests.rooms.conftest import Room, connect, guest, join  # noqa: F401  (the fixture)
from web.db import db, get_engine, reads_only


def _viewer(app: Flask, room: Room) -> FlaskClient:
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{room.id}").status_code == 200
    return http


def test_the_state_and_history_are_read_while_a_writer_holds_the_lock(
    app: Flask, room: Room, session: Session
) -> None:
    """On SQLite a read in BEGIN IMMEDIATE waited for the writer (and timed out "busy");
    on PostgreSQL the statements run in autocommit: no BEGIN, no ROLLBACK."""
    http = _viewer(app, room)
    engine = get_engine(app)
    seen: list[bool] = []

    def record(conn: Any, *_: Any) -> None:
        seen.append(bool(conn.connection.dbapi_connection.autocommit))

    session.commit()
    if is_sqlite(str(engine.url)):
        writer = engine.raw_connection()  # another process's writer, as far as SQLite knows
        writer.cursor().execute("BEGIN IMMEDIATE")
    else:
        writer = None
        event.listen(engine, "before_cursor_execute", record)
    try:
        state = http.get(f"/api/live-sessions/{room.id}")
        history = http.get(f"/api/live-sessions/{room.id}/messages")
        page = http.get(f"/b/{room.brand.slug}/shows/{room.live.show_id}")
    finally:
        if writer is not None:
            writer.rollback()
            writer.close()
        else:
            event.remove(engine, "before_cursor_execute", record)
    assert state.status_code == 200 and state.json["id"] == room.id
    assert history.status_code == 200 and history.json == []
    assert page.status_code == 200
    if writer is None:
        assert seen and all(seen), seen


def test_a_write_from_a_reads_only_view_is_refused_and_nothing_is_stored(
    app: Flask, room: Room, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/test/reads-only-writes")
    @reads_only
    def writes() -> dict[str, Any]:
        db().add(ChatMessage(live_session_id=room.id, author_name="x", body="x"))
        db().commit()
        return {}

    session.commit()
    with caplog.at_level(logging.ERROR):
        answer = app.test_client().get("/test/reads-only-writes")
    assert answer.status_code == 500  # a bug in the view: said loudly, not half-written
    assert any(
        WriteWhileReadsOnly.__name__ in r.getMessage() + str(r.exc_info) for r in caplog.records
    )
    assert session.exec(text("SELECT count(*) FROM chat_messages")).one()[0] == 0


def test_a_reservation_past_its_time_is_given_back_when_the_show_is_opened(
    app: Flask, room: Room, session: Session, events: list[Event]
) -> None:
    http = _viewer(app, room)
    body = {"variant_id": room.variant.id, "quantity": 2, "live_session_id": room.id}
    assert http.post("/api/bag/lines", json=body).status_code == 201
    assert http.get(f"/api/live-sessions/{room.id}").json["bag"]["count"] == 2  # still held
    session.exec(update(StockReservation).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    state = http.get(f"/api/live-sessions/{room.id}")
    assert state.status_code == 200
    assert state.json["bag"]["lines"] == []
    variant = session.get(Variant, room.variant.id)
    assert variant is not None
    session.refresh(variant)
    assert variant.stock == 5
    stock = [e for e in events if e.kind == "stock"]
    assert stock and stock[-1].data["stock"] == 5  # the room was told, as the sweeper tells it
    session.commit()
    again = http.get(f"/api/live-sessions/{room.id}")
    assert again.json["bag"]["lines"] == [] and (variant.stock == 5)


def test_a_join_reads_outside_any_transaction_and_writes_its_view_in_one_of_its_own(
    app: Flask,
    room: Room,
    connect: Callable[..., SocketIOTestClient],  # noqa: F811
) -> None:
    """The socket join (web/sockets/handlers.on_join) reads as a reads-only view does; the
    viewing it records is the one write, in a transaction of its own."""
    sio = guest(connect, app, room)
    engine = get_engine(app)
    seen: list[tuple[bool | None, str]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        seen.append((getattr(dbapi, "autocommit", None), " ".join(statement.split()[:3])))

    event.listen(engine, "before_cursor_execute", record)
    try:
        ack = join(sio, room)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert ack["ok"] and ack["role"] == "viewer", ack
    writes = [s for _, s in seen if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == ["INSERT INTO analytics_events"], seen
    if is_sqlite(str(engine.url)):
        assert [s for _, s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"], seen
    else:
        reads = [auto for auto, s in seen if s.startswith("SELECT")]
        assert reads and all(reads), seen
        assert [s for auto, s in seen if not auto] == ["INSERT INTO analytics_events"], seen


def test_a_write_from_a_read_gives_the_reads_connection_back_first(database_url: str) -> None:
    """With one pooled connection, a reads-only session that has read and then writes in
    a session of its own must not hold its connection meanwhile: a burst of joins each
    held one and waited for another until the pool timed out ("busy")."""
    from sqlmodel import select

    from sessions.db import create_all, make_engine, reads_only_engine, writable
    from sessions.models import Brand

    engine = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=2)
    create_all(engine)
    try:
        with Session(
            reads_only_engine(engine), expire_on_commit=False, info={WRITER_BIND: engine}
        ) as reads:
            assert reads.exec(select(Brand)).all() == []
            with writable(reads) as writer:
                writer.exec(text("SELECT 1"))
                writer.commit()
            assert reads.exec(select(Brand)).all() == []  # it reads on afterwards
    finally:
        engine.dispose()
