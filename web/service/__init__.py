"""Consultations: booking, talk now, messages left, the consultation room, the associate's day."""

from __future__ import annotations

import os

from flask import Blueprint, Flask

bp = Blueprint("service", __name__)


def init_app(app: Flask) -> None:
    """Register the pages; reminders and queue timeouts run in the app's scheduler."""
    from web.service import console, shopper  # noqa: F401  (registers the routes)
    from web.service.services import config_defaults

    for key, value in config_defaults().items():
        app.config.setdefault(key, type(value)(os.environ.get(key, value)))
    app.register_blueprint(bp)
