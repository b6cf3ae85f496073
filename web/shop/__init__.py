"""Shopper pages: brand home, show, product, bag, calendar file and the embed."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shop", __name__)

from web.shop import embed, invitations, privacy, reminders, views  # noqa: E402, F401  (registers the routes)
