"""Remind me on the show page, and the unsubscribe link of its e-mails.

The unsubscribe link opens a page that asks (GET changes nothing); its button POSTs.
That POST needs no CSRF token: the signed token in the address is the proof (only the
e-mail's recipient has it), and mail clients' one-click unsubscribe (RFC 8058) POSTs to
the same address without one.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from sessions.errors import DomainError
from sessions.models import Brand, Show, ShowReminder
from sessions.shows import reminders
from web.db import db
from web.errors import error_text
from web.extensions import csrf
from web.i18n import current_language
from web.identity import current_actor
from web.shop import bp
from web.shop.views import brand_by_slug, shop_context, show_of_brand, show_page
from web.shows import flush_show_mails


@bp.post("/b/<slug>/shows/<int:show_id>/remind")
def remind_me(slug: str, show_id: int) -> Response | tuple[str, int]:
    brand = brand_by_slug(slug)
    show = show_of_brand(brand, show_id)
    email = request.form.get("email", "")
    try:
        asked = reminders.do_ask_reminder(
            db(),
            current_actor(),
            show,
            email,
            client=request.remote_addr,
            language=current_language(),
        )
    except DomainError as exc:
        db().rollback()
        page = show_page(brand, show, email=email[:254], error=error_text(exc))
        return page if isinstance(page, tuple) else (page, exc.status)
    if asked.new:
        flush_show_mails()
        flash(
            gettext(
                "We will remind you. A confirmation is on its way to %(email)s.",
                email=asked.reminder.email,
            ),
            "success",
        )
    else:
        flash(gettext("You had already asked: we will remind you."), "success")
    return redirect(url_for("shop.show", slug=slug, show_id=show_id) + "#remind")


def _reminder(token: str) -> tuple[ShowReminder, Show, Brand]:
    reminder = reminders.reminder_from_token(db(), current_app.config["SECRET_KEY"], token)
    show = db().get(Show, reminder.show_id)
    brand = db().get(Brand, show.brand_id) if show else None
    assert show is not None and brand is not None  # the reminder's show cascades with it
    return reminder, show, brand


@bp.get("/show-reminders/<reminder_token>")
def unsubscribe_page(reminder_token: str) -> str:
    reminder, show, brand = _reminder(reminder_token)
    return render_template(
        "shop/unsubscribe.html",
        reminder=reminder,
        show=show,
        done=reminder.unsubscribed_at is not None,
        token=reminder_token,
        **shop_context(brand),
    )


@bp.post("/show-reminders/<reminder_token>")
@csrf.exempt
def unsubscribe(reminder_token: str) -> str:
    reminder, show, brand = _reminder(reminder_token)
    reminders.do_unsubscribe(db(), reminder)
    return render_template(
        "shop/unsubscribe.html",
        reminder=reminder,
        show=show,
        done=True,
        token=reminder_token,
        **shop_context(brand),
    )
