"""Two-factor sign-in for brand admins (sessions/accounts/totp.py): the code asked after
the password, and the account page that turns it on (a QR code drawn here, as SVG, by
segno) and off."""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from sessions.access import access_two_factor
from sessions.accounts import totp
from sessions.errors import DomainError, TooManyRequests
from sessions.models import Brand, User
from web.auth import PENDING, bp, landing, pending_user
from web.db import db
from web.errors import error_text
from web.identity import current_actor, sign_in, signed_in_user

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | Response


# --- the second step of sign-in ----------------------------------------------------------


@bp.get("/login/code")
def second_factor() -> Page:
    if pending_user() is None:
        return redirect(url_for("auth.login"))
    return render_template("auth/code.html", error=None)


@bp.post("/login/code")
def second_factor_submit() -> Page:
    pending = pending_user()
    if pending is None:
        flash(_("That took too long. Sign in again."))
        return redirect(url_for("auth.login"), code=303)
    user, next_url = pending
    try:
        totp.do_check(db(), user, request.form.get("code", ""))
    except TooManyRequests as exc:
        page = render_template("auth/code.html", error=error_text(exc))
        return page, 429, {"Retry-After": str(exc.details.get("retry_after", 300))}
    except DomainError as exc:
        db().rollback()
        return render_template("auth/code.html", error=error_text(exc)), 422
    session.pop(PENDING, None)
    sign_in(user)
    return redirect(landing(user, next_url), code=303)


# --- the account page --------------------------------------------------------------------


def _admin() -> User | None:
    user = signed_in_user()
    if user is not None:
        access_two_factor(current_actor())
    return user


def _qr(user: User) -> Markup:
    brand = db().get(Brand, user.brand_id) if user.brand_id else None
    uri = totp.provisioning_uri(user, brand.name if brand else None)
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#1c1c1c", light="#ffffff", title=_("QR code for your authenticator app")
    )
    return Markup(svg)


def _page(user: User, *, error: str | None = None, codes: list[str] | None = None) -> str:
    enrolling = user.totp_secret is not None and not totp.is_on(user)
    return render_template(
        "auth/two_factor.html",
        on=totp.is_on(user),
        enrolling=enrolling,
        qr=_qr(user) if enrolling else None,
        secret=user.totp_secret if enrolling else None,
        codes=codes,
        left=totp.recovery_codes_left(db(), user) if totp.is_on(user) else 0,
        error=error,
    )


@bp.get("/account/two-factor")
def two_factor() -> Page:
    user = _admin()
    if user is None:
        return redirect(url_for("auth.login", next=url_for("auth.two_factor")))
    page = _page(user)
    db().commit()
    return page


@bp.post("/account/two-factor/start")
def two_factor_start() -> Page:
    user = _admin()
    if user is None:
        return redirect(url_for("auth.login", next=url_for("auth.two_factor")))
    try:
        totp.do_start(db(), user)
    except DomainError as exc:
        db().rollback()
        return _page(user, error=error_text(exc)), exc.status
    return redirect(url_for("auth.two_factor"), code=303)


def _code_action(action: str) -> Page:
    user = _admin()
    if user is None:
        return redirect(url_for("auth.login", next=url_for("auth.two_factor")))
    code = request.form.get("code", "")
    try:
        if action == "confirm":
            codes = totp.do_confirm(db(), user, code)
            return _page(user, codes=codes)  # the recovery codes: shown this once
        totp.do_disable(db(), user, code)
    except DomainError as exc:
        db().rollback()
        db().refresh(user)
        return _page(user, error=error_text(exc)), exc.status
    flash(_("Two-factor sign-in is off."))
    return redirect(url_for("auth.two_factor"), code=303)


@bp.post("/account/two-factor/confirm")
def two_factor_confirm() -> Page:
    return _code_action("confirm")


@bp.post("/account/two-factor/disable")
def two_factor_disable() -> Page:
    return _code_action("disable")
