"""Sign-in and sign-out for brand staff, and their own password. Shoppers need no account.

Beside this module: links.py (the e-mailed links: an invitation to set one's password,
a password reset), two_factor.py (a brand admin's optional TOTP), mails.py (those
e-mails, in the language they were asked in).
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sessions.accounts import (
    LoginThrottle,
    do_authenticate,
    do_change_password,
    do_sign_out_everywhere,
    totp,
)
from sessions.errors import DomainError, TooManyRequests
from sessions.models import Role, User
from web.db import db
from web.errors import error_text
from web.identity import current_actor, is_current, sign_in, sign_out, signed_in_user
from web.redirects import safe_next

bp = Blueprint("auth", __name__)
# The password was right; the second step (a code) must follow within this time.
SECOND_STEP_SECONDS = 300
PENDING = "pending_second_factor"


def _throttle() -> LoginThrottle:
    config = current_app.config
    return LoginThrottle(
        max_failures=config["LOGIN_MAX_FAILURES"],
        max_failures_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window_seconds=config["LOGIN_WINDOW_SECONDS"],
    )


def landing(user: User, next_url: str | None = None) -> str:
    """Where sign-in leads: a safe ``next`` if one was given, else a brand admin's
    dashboard, an associate's console (a platform admin: the home page)."""
    if next_url:
        return next_url
    if user.role is Role.BRAND_ADMIN:
        return url_for("admin.index")
    if user.role is Role.ASSOCIATE:
        return url_for("console.index")
    return url_for("home.index")


def _login_page(email: str, error: str | None, next_url: str | None) -> str:
    return render_template("auth/login.html", email=email, error=error, next=next_url)


# GET and POST are two views: Flask answers HEAD with the GET view, so a HEAD can never
# reach the branch that checks a password (it used to, counting a failure without CSRF).
@bp.get("/login")
def login() -> str:
    next_url = safe_next(request.args.get("next"))
    return _login_page("", None, next_url)


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
        page = _login_page(email, error_text(exc), next_url)
        return page, 429, {"Retry-After": str(exc.details.get("retry_after", 60))}
    if user is None:
        error = _("That e-mail and password do not match an account.")
        return _login_page(email, error, next_url), 401
    if totp.is_on(user):
        # Not signed in yet: the browser holds only "this person's password was right".
        session.clear()
        session[PENDING] = {
            "user_id": user.id,
            "version": user.session_version,
            "at": int(time.time()),
            "next": next_url,
        }
        return redirect(url_for("auth.second_factor"))
    sign_in(user)
    return redirect(landing(user, next_url))


@bp.post("/logout")
def logout() -> Response:
    """Sign out everywhere: this cookie cannot be told from a copy of it (a shared tablet,
    a stolen cookie), so every session of this staff member ends, sockets included."""
    user = signed_in_user()
    if user is not None:
        do_sign_out_everywhere(db(), user)
    sign_out()
    flash(_("Signed out on every device."))
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Response | str | tuple[str, int]:
    user = signed_in_user()
    if user is None:
        return redirect(url_for("auth.login", next=url_for("auth.change_password")))
    offer_2fa = user.role is not Role.ASSOCIATE
    if request.method != "POST":
        return render_template("auth/password.html", error=None, field=None, two_factor=offer_2fa)
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
        page = render_template(
            "auth/password.html", error=error_text(exc), field=field, two_factor=offer_2fa
        )
        return page, 422
    sign_in(user)  # this browser stays signed in with the new version; all others end
    flash(_("Password changed. Every other device was signed out."))
    return redirect(landing(user))


@bp.get("/whoami")
def whoami() -> dict[str, object]:
    actor = current_actor()
    return {"kind": actor.kind.value, "name": actor.name, "brand_id": actor.brand_id}


def pending_user() -> tuple[User, str | None] | None:
    """The person whose password was right in this browser, still within the time."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    at, user_id = pending.get("at"), pending.get("user_id")
    if not isinstance(at, int) or time.time() - at > SECOND_STEP_SECONDS:
        return None
    user = db().get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not is_current(user, pending.get("version")):
        return None
    return user, safe_next(pending.get("next"))


from web.auth import links, two_factor  # noqa: E402, F401
