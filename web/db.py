"""The database as the web layer sees it: one engine per app, one session per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions.db import WRITER_BIND, is_sqlite, make_engine, normalise_url, reads_only_engine


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    pool: dict[str, int] = {}
    if not is_sqlite(normalise_url(url)):
        pool = {
            "pool_size": int(app.config.get("DATABASE_POOL_SIZE", 10)),
            "max_overflow": int(app.config.get("DATABASE_MAX_OVERFLOW", 20)),
        }
    app.extensions["vitrine.engine"] = make_engine(url, **pool)
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return cast(Engine, (app or current_app).extensions["vitrine.engine"])


def db() -> Session:
    """The request's session. Actions commit it; it is closed when the request ends.

    A view marked ``reads_only`` gets a session that reads in autocommit and refuses to
    write (sessions/db.py says why)."""
    if "db_session" not in g:
        if _serving_reads_only():
            g.db_session = Session(
                reads_only_engine_of(current_app),
                expire_on_commit=False,
                info={WRITER_BIND: get_engine()},
            )
        else:
            g.db_session = Session(get_engine(), expire_on_commit=False)
    return cast(Session, g.db_session)


F = TypeVar("F", bound=Callable[..., Any])


def reads_only(view: F) -> F:
    """Mark a view that only reads (under its route decorator, so the route sees it):
    its requests read in autocommit, never holding a transaction or SQLite's write lock."""
    view.vitrine_reads_only = True  # type: ignore[attr-defined]
    return view


def _serving_reads_only() -> bool:
    if not has_request_context():
        return False
    if g.get("vitrine_reads_only"):  # a Socket.IO event marked so (web/sockets/handlers.py)
        return True
    if request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "vitrine_reads_only", False))


def reads_only_engine_of(app: Flask) -> Engine:
    """The app's engine in reads-only mode, made once (again if a test swaps the engine)."""
    engine = get_engine(app)
    made = app.extensions.get("vitrine.reads_only_engine")
    if made is None or made[0] is not engine:
        made = app.extensions["vitrine.reads_only_engine"] = (engine, reads_only_engine(engine))
    return cast(Engine, made[1])


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
