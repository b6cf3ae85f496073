"""Shows and the app: going on air and off it (the relay's part), the links and mailer of
reminder e-mails, and sending what is due.

The scheduler's ``show_reminders`` job (web/scheduler.py) sends the e-mails when they
come due on every node; a request that makes one due at once (a confirmation, a host
going live) also sends it right away in a background task, so nobody waits for the next
tick. Both claim each e-mail in the database: it goes once either way.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from sessions.access import Actor
from sessions.clock import utcnow
from sessions.mail import Mailer, mailer_from_config
from sessions.models import LiveSession, Show
from sessions.shows import lifecycle, reminders
from sessions.shows.lifecycle import ShowAction
from sessions.shows.reminders import ShowLinks, run_due_show_mails
from web.db import db, get_engine
from web.extensions import socketio
from web.relay import end_room

log = logging.getLogger(__name__)


def show_links(app: Flask | None = None) -> ShowLinks:
    config = (app or current_app).config
    return ShowLinks(public_url=config["PUBLIC_URL"], secret=config["SECRET_KEY"])


def show_mailer(app: Flask | None = None) -> Mailer:
    return mailer_from_config((app or current_app).config)


def send_due_show_mails(app: Flask) -> int:
    return run_due_show_mails(get_engine(app), show_mailer(app), show_links(app), utcnow())


def flush_show_mails() -> None:
    """Send what is due now without holding up the request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(_send_quietly, app)


def _send_quietly(app: Flask) -> None:
    try:
        send_due_show_mails(app)
    except Exception:
        log.exception("sending show reminders failed; the scheduler will retry")


def init_app(app: Flask) -> None:
    reminders.REMINDERS_PER_CLIENT.set_limit(app.config["SHOW_REMINDER_RATE_LIMIT"])


def start_show(actor: Actor, show: Show) -> LiveSession:
    """Go live; whoever asked to be reminded is told now rather than at the next tick."""
    live = lifecycle.do_start_show(db(), actor, show)
    flush_show_mails()
    return live


def end_show(actor: Actor, show: Show) -> LiveSession:
    """End the show: the relay ends the room and closes its recording, the replay to be.
    Refused (403, 409) before the relay is asked anything, and no transaction stays open
    across that network call."""
    lifecycle.check_action(db(), actor, show, ShowAction.END)
    live = lifecycle.live_session_for_show(db(), show)
    db().commit()
    return lifecycle.do_end_show(db(), actor, show, replay_url=end_room(live))
