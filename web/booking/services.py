"""Consultations and the app: mailer, links, the outbox and the background tick."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, current_app

from sessions import queue
from sessions.clock import utcnow
from sessions.db import session_scope
from sessions.mail import Mailer, SmtpSettings
from sessions.models import Appointment
from sessions.reminders import Links, run_due_reminders
from web.db import get_engine
from web.extensions import socketio

log = logging.getLogger(__name__)


def mailer(app: Flask | None = None) -> Mailer:
    return Mailer(SmtpSettings.from_mapping((app or current_app).config))


def links(app: Flask | None = None) -> Links:
    config = (app or current_app).config
    return Links(public_url=config["PUBLIC_URL"], secret=config["SECRET_KEY"])


def manage_path(appointment: Appointment) -> str:
    return links().manage_url(appointment)[len(current_app.config["PUBLIC_URL"]) :]


def accept_seconds(app: Flask | None = None) -> int:
    return int((app or current_app).config.get("QUEUE_ACCEPT_SECONDS", 30))


def flush_outbox() -> None:
    """Send what is due now (a confirmation, a cancellation) without holding up the request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(_send_due, app)


def _send_due(app: Flask) -> None:
    try:
        run_due_reminders(get_engine(app), mailer(app), utcnow(), links(app))
    except Exception:
        log.exception("sending appointment e-mails failed; the scheduler will retry")


def _tick(app: Flask) -> None:
    """Reminders every REMINDER_INTERVAL_SECONDS, queue offers expiring every QUEUE_TICK."""
    reminder_every = float(app.config.get("REMINDER_INTERVAL_SECONDS", 30))
    queue_every = float(app.config.get("QUEUE_TICK_SECONDS", 2))
    last_reminders = 0.0
    while True:
        now = time.monotonic()
        try:
            with session_scope(get_engine(app)) as db:
                queue.route_all(db, accept_seconds=accept_seconds(app))
            if now - last_reminders >= reminder_every:
                last_reminders = now
                _send_due(app)
        except Exception:
            log.exception("consultations tick failed; trying again")
        socketio.sleep(queue_every)


def start_background(app: Flask) -> None:
    """One loop per web node; claims make several nodes safe. Off under the test client."""
    if app.config.get("TESTING") or not app.config.get("CONSULT_BACKGROUND", True):
        return
    socketio.start_background_task(_tick, app)


def config_defaults() -> dict[str, Any]:
    return {
        "QUEUE_ACCEPT_SECONDS": 30,
        "QUEUE_TICK_SECONDS": 2,
        "REMINDER_INTERVAL_SECONDS": 30,
    }
