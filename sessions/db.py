"""Engines and sessions: a SQLite file by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, SQLModel, create_engine

import sessions.models  # noqa: F401  (registers every table on the metadata)

DEFAULT_DATABASE_URL = "sqlite:///var/vitrine.db"


def normalise_url(url: str) -> str:
    """Accept the common postgres:// spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


SQLITE_BUSY_SLICE_MS = 20  # one wait inside SQLite's C busy handler
SQLITE_LOCK_WAIT_SECONDS = 15.0  # the whole wait for the write lock, in yielding slices


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer commits; foreign keys are off by
    # default in SQLite; isolation_level=None hands transaction control to us
    # (see _begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Short on purpose: SQLite's busy handler waits inside C, which under gevent or
    # eventlet freezes every other green thread. Longer waits happen in
    # _begin_immediate, where sleeping yields.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SLICE_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock at the start of the transaction, so two
    # writers never both read stock and then both write (SQLite's lost update).
    # The price: on SQLite any open transaction, even a read, holds the write lock,
    # so keep transactions short and commit before network I/O. Waiting for the lock
    # happens here, in short slices with a sleep between them that yields under
    # gevent/eventlet: a wait inside SQLite's own C busy handler would freeze every
    # green thread of the node, including the one holding the lock.
    deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
    pause = 0.002
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                raise
        # Under gevent/eventlet this sleep yields, so the green thread that holds the
        # lock (maybe waiting on Redis or a socket) can finish and commit.
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        if ":memory:" not in url:
            # Keep up to 20 idle connections: opening one (and its PRAGMAs) costs
            # about a millisecond, twice per request. No cap on the busy ones, so a
            # burst never waits for a free connection (SQLite orders the writers).
            kwargs = {"poolclass": QueuePool, "pool_size": 20, "max_overflow": -1, **kwargs}
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for a connection idle a while.

    Why not ``pool_pre_ping=True``: it pings on every checkout, one more round trip and
    0.1 ms of CPU for every request (bench/hot_path.py; on a node serving a flash sale,
    one more turn of the event loop among hundreds of waiting requests). A connection in
    steady use has just proven itself; one that sat idle may have been closed by the
    server, a restart or a firewall, and is tested before use as with pre-ping. One
    that breaks in between (the database restarted a moment ago) fails its request with
    503 (web/errors.py), and SQLAlchemy then recycles the whole pool. Raising
    DisconnectionError in a checkout listener is SQLAlchemy's documented way to have the
    pool retry the checkout with a fresh connection."""
    dialect = engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in_at")
        if last is None or time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
            return  # new (just connected) or in steady use
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def create_all(engine: Engine) -> None:
    """For tests and throwaway databases; real ones use the Alembic migrations."""
    SQLModel.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
