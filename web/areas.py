"""One line per area of the product: pages, live rooms, consultations, admin."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from web.home import bp as home_bp

    app.register_blueprint(home_bp)
