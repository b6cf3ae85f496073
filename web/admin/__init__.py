"""Brand admin: catalogue, stores and associates, shows, analytics, settings."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from web.admin import (  # noqa: E402, F401
    analytics,
    brand_texts,
    catalogue,
    people,
    privacy,
    replies,
    settings,
    shows,
)
