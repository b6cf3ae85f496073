"""One place that plugs each area of the product into the app."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from web.admin import bp as admin_bp
    from web.api.live import checkout_bp
    from web.cohost import bp as cohost_bp
    from web.console import bp as console_bp
    from web.home import bp as home_bp
    from web.service import init_app as init_consultations
    from web.shop import bp as shop_bp
    from web.shows import init_app as init_shows
    from web.sockets import init_app as init_live_rooms

    app.register_blueprint(home_bp)  # platform landing: the list of brands
    app.register_blueprint(shop_bp)  # shopper pages, .ics, embed
    app.register_blueprint(checkout_bp)  # bag hand-off to the brand's shop
    app.register_blueprint(console_bp)  # associate console, host view
    app.register_blueprint(admin_bp)  # brand admin
    app.register_blueprint(cohost_bp)  # a show's co-host: invitations, guest link, their page
    init_live_rooms(app)  # Socket.IO handlers and event delivery
    init_consultations(app)  # booking, talk now, consultation rooms, reminders
    init_shows(app)  # remind-me limits (the lifecycle's pages are the admin's and console's)
