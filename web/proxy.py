"""Behind a reverse proxy, the client's address and scheme come from its headers.

Without this every request behind the shipped nginx comes from 127.0.0.1, so
per-address limits (sign-in throttling, guest creation) would count all clients
as one. The headers are trusted only for as many hops as ``TRUSTED_PROXY_COUNT``
says (default 0: none), since any client can send an ``X-Forwarded-For``.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Wrap the whole WSGI app, Socket.IO included, so sockets see the same address.

    Call after ``socketio.init_app``: ProxyFix then sits outside the Socket.IO
    middleware and rewrites the environ that Engine.IO keeps for each connection.
    """
    hops = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
