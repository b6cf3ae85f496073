"""A staff member's own settings in the console: the language of their console.

Kept on their account (sessions/languages.py), so it holds on every device and after
the next sign-in; "the browser's language" goes back to Accept-Language."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from werkzeug.wrappers import Response

from sessions.errors import InvalidInput
from sessions.languages import do_set_staff_language
from web.console import bp
from web.console.views import console_brand, to_login
from web.db import db
from web.i18n import LANGUAGES
from web.identity import current_actor, signed_in_user

AUTOMATIC = ""


@bp.get("/settings")
def settings() -> Response | str:
    user = signed_in_user()
    if user is None:
        return to_login()
    return _page(user.language or AUTOMATIC)


def _page(chosen: str, error: str | None = None) -> str:
    return render_template(
        "console/settings.html",
        brand=console_brand(current_actor()),
        section="settings",
        chosen=chosen,
        error=error,
    )


@bp.post("/settings")
def save_settings() -> Response | tuple[str, int]:
    user = signed_in_user()
    if user is None:
        return to_login()
    language = request.form.get("language", AUTOMATIC).strip()
    try:
        do_set_staff_language(db(), user, language or None, offered=LANGUAGES)
    except InvalidInput:
        db().rollback()
        return _page(language, _("Choose one of the languages offered.")), 422
    refresh()  # this response is already in the new language
    flash(_("Your console is now in %(language)s.", language=_language_name(language)))
    return redirect(url_for("console.settings"))


def _language_name(code: str) -> str:
    return LANGUAGES.get(code) or _("your browser's language")
