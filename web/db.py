"""The database as the web layer sees it: one engine per app, one session per request."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions.db import is_sqlite, make_engine, normalise_url


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
    """The request's session. Actions commit it; it is closed when the request ends."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return cast(Session, g.db_session)


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
