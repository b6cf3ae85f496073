"""This node's room delivery, set up by ``web.sockets.init_app``."""

from __future__ import annotations

from web.sockets.delivery import Delivery

_current: Delivery | None = None


def install(delivery: Delivery | None) -> None:
    global _current
    _current = delivery


def delivery() -> Delivery:
    assert _current is not None, "web.sockets.init_app(app) was not called"
    return _current
