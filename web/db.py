"""The database as the web layer sees it: one engine per app, one session per request."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions.db import make_engine


def init_app(app: Flask) -> None:
    app.extensions["vitrine.engine"] = make_engine(app.config["DATABASE_URL"])
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
