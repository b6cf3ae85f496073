"""This node's heartbeats: each open viewing gets a ``heartbeat`` event every interval.

A viewing normally ends with its ``leave``; when its node dies there is none, and
the viewing then ends at its last heartbeat, so watch time is at most one interval
short. ``ANALYTICS_HEARTBEAT_SECONDS`` (default 60; 0 turns the loop off) sets it.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from sessions.analytics.events import do_record_heartbeats
from sessions.db import session_scope
from web.db import get_engine
from web.extensions import socketio

log = logging.getLogger(__name__)
_started: set[int] = set()
_stop = threading.Event()
_lock = threading.Lock()


def beat(app: Flask) -> int:
    """Write one heartbeat per viewing held by this node; returns how many."""
    from web.sockets.handlers import open_viewings

    viewings = open_viewings()
    if not viewings:
        return 0
    with app.app_context(), session_scope(get_engine(app)) as db:
        return do_record_heartbeats(db, viewings)


def start(app: Flask) -> None:
    """Start the loop once per app (the first socket to connect starts it)."""
    interval = float(app.config.get("ANALYTICS_HEARTBEAT_SECONDS", 60))
    with _lock:
        if interval <= 0 or id(app) in _started:
            return
        _started.add(id(app))
        _stop.clear()

    def run() -> None:
        while not _stop.is_set():
            socketio.sleep(interval)
            if _stop.is_set():
                return
            try:
                beat(app)
            except Exception:  # one failed beat must not end the others
                log.exception("analytics heartbeat failed")

    socketio.start_background_task(run)


def stop() -> None:
    """End the loop (an app shutting down, a test ending)."""
    with _lock:
        _stop.set()
        _started.clear()
