"""Consultations and the app: mailer, links, the outbox (timed work: web/scheduler.py)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app

from sessions.clock import utcnow
from sessions.mail import Mailer, SmtpSettings
from sessions.models import Appointment
from sessions.service.reminders import Links, run_due_reminders
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


def flush_signin_links() -> None:
    """Send the sign-in link just stored, after its commit, without holding up the request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(send_signin_links, app)


def send_signin_links(app: Flask) -> int:
    from sessions.service import signin

    try:
        config = app.config
        return signin.run_due(
            get_engine(app), mailer(app), config["PUBLIC_URL"], config["SECRET_KEY"]
        )
    except Exception:
        log.exception("sending sign-in links failed; the scheduler will retry")
        return 0


def config_defaults() -> dict[str, Any]:
    return {
        "QUEUE_ACCEPT_SECONDS": 30,
        "QUEUE_TICK_SECONDS": 2,
        "REMINDER_INTERVAL_SECONDS": 30,
    }
