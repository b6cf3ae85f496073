"""Live rooms over Socket.IO: handlers, per-room batching, and the events sink."""

from __future__ import annotations

from flask import Flask

from sessions.events import bus
from web.sockets import state
from web.sockets.delivery import Delivery
from web.sockets.presence import make_presence


def init_app(app: Flask) -> None:
    from sessions.live import chat_limiter
    from web.sockets import handlers
    from web.sockets import interaction as _interaction  # noqa: F401  (polls, questions)
    from web.sockets import threads as _threads  # noqa: F401  (registers its events)

    handlers.register()
    chat_limiter.set_limit(app.config.get("CHAT_RATE_LIMIT", "5 per 10 seconds"))
    handlers.heart_limiter.set_limit(app.config.get("HEART_RATE_LIMIT", "30 per 3 seconds"))

    previous = state._current
    if previous is not None:  # a second app in one process (tests): the newest delivers
        bus.unsubscribe(previous)
    delivery = Delivery(
        app,
        make_presence(app.config.get("REDIS_URL"), app.config.get("SOCKETIO_CHANNEL", "local")),
        window=float(app.config.get("CHAT_BATCH_MS", 100)) / 1000,
        presence_every=float(app.config.get("PRESENCE_PUSH_MS", 1000)) / 1000,
    )
    state.install(delivery)
    bus.subscribe(delivery)


def shutdown() -> None:
    """Stop this node's delivery loops and stop listening to domain events."""
    from web.sockets import heartbeats

    heartbeats.stop()
    if state._current is not None:
        state._current.stop()
        bus.unsubscribe(state._current)
        state.install(None)
