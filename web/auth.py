"""Sign-in and sign-out for brand staff, and their own password. Shoppers need no account."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from sessions.accounts import (
    LoginThrottle,
    do_authenticate,
    do_change_password,
    do_sign_out_everywhere,
)
from sessions.errors import DomainError, TooManyRequests
from web.db import db
from web.identity import current_actor, sign_in, sign_out, signed_in_user
from web.redirects import safe_next

bp = Blueprint("auth", __name__)


def _throttle() -> LoginThrottle:
    config = current_app.config
    return LoginThrottle(
        max_failures=config["LOGIN_MAX_FAILURES"],
        max_failures_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window_seconds=config["LOGIN_WINDOW_SECONDS"],
    )


# GET and POST are two views: Flask answers HEAD with the GET view, so a HEAD can never
# reach the branch that checks a password (it used to, counting a failure without CSRF).
@bp.get("/login")
def login() -> str:
    next_url = safe_next(request.args.get("next"))
    return render_template("auth/login.html", email="", error=None, next=next_url)


@bp.post("/login")
def login_submit() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    next_url = safe_next(request.form.get("next"))
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    try:
        user = do_authenticate(
            db(),
            email=email,
            password=password,
            ip=request.remote_addr or "unknown",
            throttle=_throttle(),
        )
    except TooManyRequests as exc:
        page = render_template("auth/login.html", email=email, error=exc.message, next=next_url)
        return page, 429, {"Retry-After": str(exc.details.get("retry_after", 60))}
    if user is None:
        error = "That e-mail and password do not match an account."
        return render_template("auth/login.html", email=email, error=error, next=next_url), 401
    sign_in(user)
    return redirect(next_url or url_for("home.index"))


@bp.post("/logout")
def logout() -> Response:
    """Sign out everywhere: this cookie cannot be told from a copy of it (a shared tablet,
    a stolen cookie), so every session of this staff member ends, sockets included."""
    user = signed_in_user()
    if user is not None:
        do_sign_out_everywhere(db(), user)
    sign_out()
    flash("Signed out on every device.")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Response | str | tuple[str, int]:
    user = signed_in_user()
    if user is None:
        return redirect(url_for("auth.login", next=url_for("auth.change_password")))
    if request.method != "POST":
        return render_template("auth/password.html", error=None, field=None)
    try:
        do_change_password(
            db(),
            user,
            current=request.form.get("current_password", ""),
            new=request.form.get("password", ""),
        )
    except DomainError as exc:
        db().rollback()
        field = exc.details.get("field")
        return render_template("auth/password.html", error=exc.message, field=field), 422
    sign_in(user)  # this browser stays signed in with the new version; all others end
    flash("Password changed. Every other device was signed out.")
    return redirect(url_for("home.index"))


@bp.get("/whoami")
def whoami() -> dict[str, object]:
    actor = current_actor()
    return {"kind": actor.kind.value, "name": actor.name, "brand_id": actor.brand_id}
