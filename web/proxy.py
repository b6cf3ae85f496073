"""What a request says about itself is believed only when it comes through our own proxy.

Behind the shipped nginx every request comes from 127.0.0.1: without reading
``X-Forwarded-For`` per-address limits (sign-in throttling, guest creation) would
count all clients as one. But any client can send that header, so it is read only

- when ``TRUSTED_PROXY_COUNT`` says how many proxies in front append to it (default
  0: none, the headers are ignored), and
- when the peer that connected to this node is one of ``TRUSTED_PROXIES``
  (addresses or networks; default loopback, where the shipped nginx runs).

A request from anyone else is served as it came: its ``X-Forwarded-*``,
``Forwarded`` and ``X-Request-Id`` headers are dropped before the app sees them.

Every request gets a request id: the proxy's ``X-Request-Id`` when the request came
through a trusted proxy and the value is a plain token, otherwise a new random one.
It is kept in the environ (``web.logs`` puts it on every log line written while the
request, or a Socket.IO event of its connection, is handled) and sent back in the
response's ``X-Request-Id``.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

REQUEST_ID = "vitrine.request_id"
STARTED = "vitrine.started"
DEFAULT_TRUSTED = "127.0.0.0/8, ::1"
# nginx's $request_id is 32 hex digits; other proxies use UUIDs or similar tokens.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_FORWARDED = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
    "HTTP_X_REAL_IP",
    "HTTP_X_REQUEST_ID",
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """``"127.0.0.1, 10.0.0.0/8 ::1"`` -> networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or network") from None
    return networks


def is_trusted(address: str | None, networks: Sequence[Network]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d
    return any(ip in network for network in networks)


def new_request_id() -> str:
    return uuid.uuid4().hex


class ProxiedRequests:
    """WSGI middleware outside everything (Socket.IO included): address, scheme, request id."""

    def __init__(self, app: WSGIApplication, hops: int, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = list(trusted)
        self.hops = hops
        self.fixed: WSGIApplication | None = (
            ProxyFix(app, x_for=hops, x_proto=hops) if hops > 0 else None
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[STARTED] = time.perf_counter()
        via_proxy = self.fixed is not None and is_trusted(environ.get("REMOTE_ADDR"), self.trusted)
        given = environ.get("HTTP_X_REQUEST_ID", "") if via_proxy else ""
        request_id = given if _REQUEST_ID.fullmatch(given) else new_request_id()
        environ[REQUEST_ID] = request_id
        if not via_proxy:
            for key in _FORWARDED:
                environ.pop(key, None)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-Id", request_id))
            return start_response(status, headers, exc_info)

        app = self.fixed if via_proxy and self.fixed is not None else self.app
        return app(environ, start)


def init_app(app: Flask) -> None:
    """Wrap the whole WSGI app, Socket.IO included, so sockets see the same address.

    Call after ``socketio.init_app``: this then sits outside the Socket.IO
    middleware and rewrites the environ that Engine.IO keeps for each connection.
    """
    hops = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    trusted = parse_networks(app.config.get("TRUSTED_PROXIES", DEFAULT_TRUSTED))
    app.wsgi_app = ProxiedRequests(app.wsgi_app, hops, trusted)  # type: ignore[method-assign]
