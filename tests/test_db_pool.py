"""The PostgreSQL pool tests a connection before use only when it sat idle
(sessions/db.py, ``_ping_idle_connections``): one the server closed meanwhile is replaced
on checkout, without the request seeing it; one in steady use is not pinged."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import sessions.db
from sessions.db import make_engine


@pytest.fixture
def pg_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL pool")
    return database_url


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    other = make_engine(url)
    with other.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    other.dispose()


def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    first = _backend(engine)
    _terminate(pg_url, first)
    monkeypatch.setattr(sessions.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if idle long
    assert _backend(engine) != first  # no error: the dead one was found and replaced
    engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    _backend(engine)
    pings: list[object] = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda c: pings.append(c) or original(c)  # type: ignore[method-assign]
    for _ in range(3):
        _backend(engine)
    assert pings == []
    engine.dispose()
