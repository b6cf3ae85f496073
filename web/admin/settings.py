"""Brand settings: name, logo and colours of the shopper pages, offline message,
blocked words, checkout hand-off."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from sessions.brands import do_update_brand_settings
from sessions.embedding import do_set_embed_origins
from sessions.errors import DomainError
from web.admin import bp
from web.admin.forms import Form, admin_brand, needs_login
from web.admin.images import save_image
from web.config import is_production
from web.db import db

FIELDS = (
    "name",
    "primary_color",
    "accent_color",
    "offline_message",
    "blocked_words",
    "checkout_url_template",
    "checkout_webhook_url",
    "max_per_client",
    "away_after_minutes",
    "auto_answer_after_seconds",
)


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    if request.method == "GET":
        form = Form(values={name: str(getattr(brand, name) or "") for name in FIELDS})
        form.values["embed_origins"] = brand.embed_origins
        form.values["record_consultations"] = "1" if brand.record_consultations else ""
        return render_template("admin/settings.html", brand=brand, form=form, section="settings")
    form = Form.from_request()
    logo_path = None
    upload = request.files.get("logo")
    if upload is not None and upload.filename:
        try:
            logo_path = save_image(
                upload.read(), current_app.config["UPLOAD_DIR"], "logos", field="logo"
            )
        except DomainError as exc:
            form.absorb(exc, "logo")
    if form.ok:
        try:
            do_update_brand_settings(
                db(),
                brand,
                logo_path=logo_path,
                # An unticked box sends nothing: off.
                record_consultations=form.get("record_consultations") == "1",
                **{name: form.get(name) for name in FIELDS},
            )
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "name")
        else:
            flash("Settings saved.")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", brand=brand, form=form, section="settings"), 422


@bp.post("/settings/embed")
def embed_settings() -> Response | str | tuple[str, int]:
    """The sites allowed to frame the embed: a form of its own beside the main settings."""
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    raw = request.form.get("embed_origins", "")
    try:
        do_set_embed_origins(db(), brand, raw, allow_http=not is_production())
    except DomainError as exc:
        db().rollback()
        form = Form(values={name: getattr(brand, name) or "" for name in FIELDS})
        form.values["embed_origins"] = raw
        form.absorb(exc, "embed_origins")
        return render_template(
            "admin/settings.html", brand=brand, form=form, section="settings"
        ), 422
    flash("Embedding sites saved.")
    return redirect(url_for("admin.settings"))
