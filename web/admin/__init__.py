"""Brand admin: catalogue, stores and associates, shows, settings."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from web.admin import catalogue, people, settings, shows  # noqa: E402, F401
