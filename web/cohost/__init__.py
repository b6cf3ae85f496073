"""A show's co-host: the host's invitations and controls, the guest's link, the co-host's
page and media grant (the rules: sessions/shows/cohost.py, sessions/access.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cohost", __name__)

from web.cohost import views  # noqa: E402, F401  (registers the routes)
