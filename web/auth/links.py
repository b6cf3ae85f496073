"""The e-mailed links of staff accounts: an invitation (set one's own password, then signed
in) and a password reset. Opening a link shows a page (the GET changes nothing: a mail
scanner that follows links spends nothing); its form's POST does the work."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sessions.accounts import invitations, resets
from sessions.errors import DomainError, InvalidInput, TooManyRequests
from sessions.models import Brand
from web.auth import bp, landing
from web.auth.mails import flush
from web.db import db
from web.errors import error_text
from web.identity import sign_in

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | Response


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _locale() -> str:
    return str(get_locale() or "en")


# --- an invitation -----------------------------------------------------------------------


def _invitation_page(token: str, status: int = 200, error: str | None = None) -> tuple[str, int]:
    invitation = invitations.invitation_for_token(db(), _secret(), token)
    state = invitations.state_of(invitation)
    brand = db().get(Brand, invitation.brand_id)
    page = render_template(
        "auth/set_password.html",
        purpose="invitation",
        action=url_for("auth.accept_invitation", invitation_token=token),
        state=state,
        name=invitation.name,
        email=invitation.email,
        brand_name=brand.name if brand else "",
        error=error,
    )
    db().commit()  # end the read (SQLite's write lock)
    return page, status if state == "ready" else 410


@bp.get("/invitation/<invitation_token>")
def invitation(invitation_token: str) -> Page:
    return _invitation_page(invitation_token)


@bp.post("/invitation/<invitation_token>")
def accept_invitation(invitation_token: str) -> Page:
    token = invitation_token
    found = invitations.invitation_for_token(db(), _secret(), token)
    try:
        user = invitations.do_accept(db(), found, password=request.form.get("password", ""))
    except InvalidInput as exc:
        db().rollback()
        return _invitation_page(token, 422, error_text(exc))
    except DomainError:
        db().rollback()
        return _invitation_page(token, 410)
    sign_in(user)
    flash(_("Welcome, %(name)s. Your password is set.", name=user.name))
    return redirect(landing(user), code=303)


# --- forgot password ---------------------------------------------------------------------


@bp.get("/password/forgot")
def forgot_password() -> str:
    return render_template("auth/forgot.html", email="", error=None, sent=False)


@bp.post("/password/forgot")
def forgot_password_submit() -> Page:
    email = request.form.get("email", "")
    try:
        resets.do_request_reset(
            db(),
            email=email,
            client=request.remote_addr or "unknown",
            secret=_secret(),
            locale=_locale(),
        )
    except TooManyRequests as exc:
        page = render_template("auth/forgot.html", email=email, error=error_text(exc), sent=False)
        return page, 429, {"Retry-After": str(exc.details.get("retry_after", 600))}
    except InvalidInput:
        error = _("Enter the e-mail address you sign in with.")
        return render_template("auth/forgot.html", email=email, error=error, sent=False), 422
    flush()
    # The same page whether or not an account has this e-mail.
    return render_template("auth/forgot.html", email=email.strip(), error=None, sent=True)


def _reset_page(token: str, status: int = 200, error: str | None = None) -> tuple[str, int]:
    reset = resets.reset_for_token(db(), _secret(), token)
    state = resets.state_of(reset)
    page = render_template(
        "auth/set_password.html",
        purpose="reset",
        action=url_for("auth.reset_password", reset_token=token),
        state=state,
        name="",
        email="",
        brand_name="",
        error=error,
    )
    db().commit()
    return page, status if state == "ready" else 410


@bp.get("/password/reset/<reset_token>")
def reset_link(reset_token: str) -> Page:
    return _reset_page(reset_token)


@bp.post("/password/reset/<reset_token>")
def reset_password(reset_token: str) -> Page:
    token = reset_token
    reset = resets.reset_for_token(db(), _secret(), token)
    try:
        resets.do_reset_password(db(), reset, password=request.form.get("password", ""))
    except InvalidInput as exc:
        db().rollback()
        return _reset_page(token, 422, error_text(exc))
    except DomainError:
        db().rollback()
        return _reset_page(token, 410)
    # Signed in by the password itself, so a two-factor account still asks for its code.
    flash(_("Your new password is set and every device was signed out. Sign in with it."))
    return redirect(url_for("auth.login"), code=303)
