"""Engines and sessions: a SQLite file by default, PostgreSQL when DATABASE_URL says so.

**Statements built once.** The lookups every request of a show makes (the guest by their
key, the brand by its slug, the show's live session and hosts, a room's recent chat, a
shopper's sanctions) are module-level statements with ``bindparam`` parameters, passed
their values with ``params=``. SQLAlchemy caches a statement's compiled SQL by a cache
key it computes by walking the statement; a statement built afresh for each request is
walked again every time, and the key is kept on the statement object itself. On SQLite
that walk was more than half of a one-row lookup (0.16 ms built each time, 0.07 ms built
once: bench/hot_path.py's fixed costs, docs/performance.md lever 19). Not every query is
written so: only those on the paths a thousand shoppers take at once.
"""

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
    if conn.get_execution_options().get(READS_ONLY):
        return  # the driver's autocommit: each SELECT reads on its own, taking no lock
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
        event.listen(engine, "before_cursor_execute", _refuse_writes_when_reads_only)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    event.listen(engine, "before_cursor_execute", _refuse_writes_when_reads_only)
    return engine


# --- requests that only read ----------------------------------------------------------
#
# The hottest requests only read (a show's state, its page, its chat history: a thousand
# of them when a show starts). In a transaction they paid for one they did not need: on
# PostgreSQL a BEGIN and a ROLLBACK, two of a state GET's four round trips; on SQLite the
# one write lock (BEGIN IMMEDIATE), so reads queued behind writes and a second process
# could not serve them beside the first (they timed out "busy"). Such requests read in
# autocommit instead: each statement on its own snapshot, as READ COMMITTED gives every
# statement of a transaction on PostgreSQL anyway, and on SQLite in WAL a read that
# never waits for the writer. A write from one is a bug, refused at once (below) rather
# than committed piecemeal; the few reads that may have to write (an expired reservation
# given back when a bag is read) do it in a session of their own: ``writable``.

READS_ONLY = "vitrine_reads_only"  # execution option of a reads-only engine's connections
WRITER_BIND = "vitrine_writer_bind"  # Session.info: the engine a reads-only session writes with
_READ_VERBS = ("SELECT", "WITH", "PRAGMA", "SHOW")


class WriteWhileReadsOnly(RuntimeError):
    """A reads-only request tried to write: mark the view otherwise or use ``writable``."""


def reads_only_engine(engine: Engine) -> Engine:
    """The same engine and pool, each connection in autocommit and refusing writes."""
    options: dict[str, Any] = {READS_ONLY: True}
    if not is_sqlite(engine.url.drivername):
        # SQLite's driver is in autocommit already (isolation_level=None): its reads-only
        # connections only skip the BEGIN IMMEDIATE (_begin_immediate).
        options["isolation_level"] = "AUTOCOMMIT"
    return engine.execution_options(**options)


def is_reads_only(db: Session) -> bool:
    return WRITER_BIND in db.info


def _refuse_writes_when_reads_only(
    conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    if not conn.get_execution_options().get(READS_ONLY):
        return
    if statement.lstrip()[:6].upper().startswith(_READ_VERBS):
        return
    raise WriteWhileReadsOnly(f"a reads-only request tried to write: {statement[:80]}")


@contextmanager
def writable(db: Session, *, forget: bool = True) -> Iterator[Session]:
    """``db`` itself when it may write; for a reads-only session, a session of its own on
    the writing engine (committed by the caller, as any action commits), after which
    ``db`` forgets what it had loaded so that it reads the change. ``forget=False``: the
    write only adds rows of its own (a join's analytics row) and changes nothing ``db``
    holds, so what it loaded stays (reloading it would cost the statements saved)."""
    writer_bind = db.info.get(WRITER_BIND)
    if writer_bind is None:
        yield db
        return
    if db.in_transaction() and not (db.new or db.dirty or db.deleted):
        # Give the reads' pooled connection back first (autocommit: nothing to commit;
        # what was loaded stays loaded). Holding it while the writer checks out a second
        # one, a burst of joins on PostgreSQL each held one and waited for another until
        # the pool timed out ("busy": bench/flash_sale.py).
        db.commit()
    wrote: list[bool] = []
    with Session(writer_bind, expire_on_commit=False) as writer:
        event.listen(writer, "after_commit", lambda _s: wrote.append(True))
        yield writer
        writer.rollback()  # what the caller left uncommitted (it raised, or only read)
    if wrote and forget:
        db.expire_all()


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
