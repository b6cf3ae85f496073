"""Sign-in and sign-out for brand staff. Shoppers need no account."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from sessions.accounts import do_authenticate
from sessions.errors import TooManyRequests
from web.db import db
from web.identity import current_actor, sign_in, sign_out

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only local paths: an open redirect would let a link sign someone in and
    # send them to a look-alike site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", email="", error=None, next=next_url)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    try:
        user = do_authenticate(
            db(),
            email=email,
            password=password,
            ip=request.remote_addr or "unknown",
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            window_seconds=current_app.config["LOGIN_WINDOW_SECONDS"],
        )
    except TooManyRequests as exc:
        return render_template(
            "auth/login.html", email=email, error=exc.message, next=next_url
        ), 429
    if user is None:
        error = "That e-mail and password do not match an account."
        return render_template("auth/login.html", email=email, error=error, next=next_url), 401
    sign_in(user)
    return redirect(next_url or url_for("home.index"))


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    return redirect(url_for("auth.login"))


@bp.get("/whoami")
def whoami() -> dict[str, object]:
    actor = current_actor()
    return {"kind": actor.kind.value, "name": actor.name, "brand_id": actor.brand_id}
