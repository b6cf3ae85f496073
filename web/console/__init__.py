"""The associate console: shell and navigation, and the host view of a show."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")

from web.console import colour, figures, settings, views  # noqa: E402, F401  (registers the routes)
