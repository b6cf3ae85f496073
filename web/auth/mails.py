"""The staff accounts' e-mails (an invitation, a password reset), written in the language
of the page they were asked from, and sent through their outbox after the commit."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlmodel import Session

from sessions.accounts import invitations, resets
from sessions.mail import one_line, recipient
from sessions.models import Brand, PasswordReset, StaffInvitation, User
from web.db import get_engine
from web.extensions import socketio
from web.service.services import mailer

log = logging.getLogger(__name__)


def _message(name: str, email: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = recipient(name, email)
    message["Subject"] = one_line(subject)
    message.set_content(text)
    return message


def invitation_message(app: Flask, db: Session, invitation: StaffInvitation) -> EmailMessage | None:
    if not invitations.message_ready(invitation):
        return None  # accepted, revoked or expired before it went: nothing to say
    brand = db.get(Brand, invitation.brand_id)
    if brand is None:
        return None
    config = app.config
    url = config["PUBLIC_URL"] + invitations.path_of(config["SECRET_KEY"], invitation)
    with force_locale(invitation.locale):
        subject = _("%(brand)s invites you to its team on Vitrine", brand=brand.name)
        text = _(
            "Hello %(name)s,\n\n%(brand)s invites you to join its team on Vitrine. "
            "Choose your password here:\n\n%(url)s\n\nThe link works once, for %(days)s days. "
            "If you did not expect this invitation, ignore this e-mail.\n\n%(brand)s\n",
            name=invitation.name,
            brand=brand.name,
            url=url,
            days=invitations.INVITATION_DAYS,
        )
    return _message(invitation.name, invitation.email, subject, text)


def reset_message(app: Flask, db: Session, reset: PasswordReset) -> EmailMessage | None:
    if resets.state_of(reset) != "ready":
        return None
    user = db.get(User, reset.user_id)
    if user is None or not user.is_active:
        return None
    config = app.config
    url = config["PUBLIC_URL"] + resets.path_of(config["SECRET_KEY"], reset)
    with force_locale(reset.locale):
        subject = _("Choose a new Vitrine password")
        text = _(
            "Hello %(name)s,\n\nSomeone, probably you, asked to reset the password of your "
            "Vitrine staff account. Choose a new one here:\n\n%(url)s\n\nThe link works once, "
            "for %(minutes)s minutes. If you did not ask, ignore this e-mail: your password "
            "stays as it is.\n",
            name=user.name,
            url=url,
            minutes=resets.RESET_MINUTES,
        )
    return _message(user.name, user.email, subject, text)


def send_staff_mails(app: Flask) -> int:
    """Every invitation and reset e-mail not sent yet; run after a request and by the
    scheduler (a failed send is retried)."""
    try:
        with app.app_context():
            engine = get_engine(app)
            sent = invitations.run_due(
                engine, mailer(app), lambda db, row: invitation_message(app, db, row)
            )
            return sent + resets.run_due(
                engine, mailer(app), lambda db, row: reset_message(app, db, row)
            )
    except Exception:
        log.exception("sending staff account e-mails failed; the scheduler will retry")
        return 0


def flush() -> None:
    """Send what was just stored, after its commit, without holding up the request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(send_staff_mails, app)
