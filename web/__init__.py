"""The web node: pages, JSON API and Socket.IO rooms in one Flask app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter
from werkzeug.routing.map import Map

from sessions import ratelimit, stockflags
from sessions.events import set_strict
from web import db as web_db
from web import (
    i18n,
    input_guard,
    logs,
    metrics,
    proxy,
    relays,
    scheduler,
    security_headers,
    staff_i18n,
)
from web.config import load_config
from web.cookie_session import HourlyRefreshSessionInterface
from web.errors import register_error_handlers
from web.extensions import csrf, socketio
from web.sockets.managers import make_manager
from web.sockets.snapshots import RoomSnapshots


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    # Ids are 32-bit in the database: a larger number in a URL is simply not found (404),
    # instead of an overflow deep in the driver.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.update(load_config(test_config))
    logs.init_app(app)  # one structured line per record, with its request id
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    # The signed cookie, re-signed when it changes or hourly, not on every response.
    app.session_interface = HourlyRefreshSessionInterface()

    web_db.init_app(app)
    # Chat, hearts and abuse limits: shared by every node through Redis when it is set.
    ratelimit.configure(app.config["REDIS_URL"], app.config["RATE_LIMIT_PREFIX"])
    # Sold-out flags of the add-to-bag fast path: never the truth, see sessions/stockflags.py.
    stockflags.configure(
        app.config["REDIS_URL"], app.config["SOCKETIO_CHANNEL"], app.config["DATABASE_URL"]
    )
    i18n.init_app(app)  # before templates render: `_()` and the page language
    staff_i18n.init_app(app)  # the console's dates and figures by the staff locale and zone
    csrf.init_app(app)
    # Rooms' shared state between the pushes that change it (web/sockets/snapshots.py).
    snapshots = RoomSnapshots(float(app.config["ROOM_STATE_CACHE_SECONDS"]))
    app.extensions["vitrine.room_snapshots"] = snapshots
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # Always given (never left to Flask-SocketIO): ours can disconnect a whole room on
        # every node, which ending a staff member's sessions needs (web/sockets/managers.py).
        client_manager=make_manager(
            app.config["REDIS_URL"],
            app.config.get("SOCKETIO_CHANNEL", "flask-socketio"),
            on_emit=snapshots.told,
        ),
        cors_allowed_origins=[app.config["PUBLIC_URL"]],
        # The connect handler reads the signed cookie session once; the socket
        # keeps its own copy afterwards (Flask-SocketIO's default).
        manage_session=True,
    )
    proxy.init_app(app)  # after Socket.IO: sockets see the forwarded address too
    metrics.init_app(app)  # GET /metrics (METRICS_TOKEN), request counts and latency
    relays.init_app(app)  # where each session's media goes (one relay, or several)
    security_headers.init_app(app)
    register_error_handlers(app)
    input_guard.init_app(app)  # NUL characters are refused before any view runs
    _register_blueprints(app)
    _register_template_helpers(app)
    # Production logs a broken event instead of failing the action that published it.
    set_strict(app.config["VITRINE_ENV"] != "production" or bool(app.config.get("TESTING")))
    # Last: its jobs use the areas' settings (queue timeout, mail).
    scheduler.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from web.api import bp as api_bp
    from web.auth import bp as auth_bp
    from web.media import bp as media_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(media_bp)
    _register_areas(app)


def _register_areas(app: Flask) -> None:
    """The product's areas (shop, console, admin, live rooms, consultations): see web/areas.py."""
    from web import areas

    areas.register(app)


def _register_template_helpers(app: Flask) -> None:
    from web.templating import init_app as init_templating

    init_templating(app)
