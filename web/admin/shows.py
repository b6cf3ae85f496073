"""Shows: schedule, edit, cancel; cover from an upload or from the relay's thumbnail."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import requests
from flask import current_app, flash, redirect, render_template, request, url_for
from sqlmodel import col, select
from werkzeug.wrappers import Response

from sessions import catalogue as cat
from sessions.errors import DomainError, InvalidInput, NotFound
from sessions.models import (
    AssociateProfile,
    Brand,
    Product,
    Show,
    ShowHost,
    ShowProduct,
    ShowStatus,
    Store,
)
from web.admin import bp
from web.admin.forms import Form, admin_brand, needs_login
from web.admin.images import save_image
from web.db import db
from web.relay import internal_headers


def _default_timezone(brand: Brand) -> str:
    store = db().exec(select(Store).where(Store.brand_id == brand.id)).first()
    return store.timezone if store else "UTC"


def _show_of(brand: Brand, show_id: int) -> Show:
    show = db().get(Show, show_id)
    if show is None or show.brand_id != brand.id:
        raise NotFound(f"No show with id {show_id}.")
    return show


def _form_page(brand: Brand, form: Form, show: Show | None) -> str:
    hosts = (
        db()
        .exec(
            select(AssociateProfile)
            .where(AssociateProfile.brand_id == brand.id)
            .order_by(col(AssociateProfile.display_name))
        )
        .all()
    )
    products = (
        db()
        .exec(
            select(Product)
            .where(Product.brand_id == brand.id, col(Product.is_active))
            .order_by(col(Product.name))
        )
        .all()
    )
    return render_template(
        "admin/show_form.html",
        brand=brand,
        form=form,
        show=show,
        hosts=hosts,
        products=products,
        section="shows",
    )


@bp.get("/shows")
def shows() -> Response | str:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    rows = (
        db()
        .exec(select(Show).where(Show.brand_id == brand.id).order_by(col(Show.starts_at).desc()))
        .all()
    )
    return render_template("admin/shows.html", brand=brand, shows=rows, section="shows")


def _read_show_form(form: Form) -> dict[str, object]:
    tz = form.get("timezone", "UTC").strip() or "UTC"
    values: dict[str, object] = {
        "title": form.text("title", "a title", required=True),
        "description": form.text("description", "the description", max_length=5000),
        "starts_at": form.local_datetime("starts_at", tz, "the start"),
        "duration_minutes": form.integer("duration_minutes", "the length", minimum=5, maximum=600),
        "host_ids": [int(x) for x in request.form.getlist("host_ids") if x.isdigit()],
        "product_ids": [int(x) for x in request.form.getlist("product_ids") if x.isdigit()],
    }
    form.values["host_ids"] = values["host_ids"]
    form.values["product_ids"] = values["product_ids"]
    upload = request.files.get("cover")
    if upload is not None and upload.filename:
        try:
            values["cover_path"] = save_image(
                upload.read(), current_app.config["UPLOAD_DIR"], "covers", field="cover"
            )
        except DomainError as exc:
            form.absorb(exc, "cover")
    return values


@bp.route("/shows/new", methods=["GET", "POST"])
def new_show() -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    if request.method == "GET":
        form = Form(values={"duration_minutes": "45", "timezone": _default_timezone(brand)})
        return _form_page(brand, form, None)
    form = Form.from_request()
    values = _read_show_form(form)
    if form.ok:
        try:
            show = cat.do_schedule_show(db(), brand_id=brand.id or 0, **values)  # type: ignore[arg-type]
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "title")
        else:
            flash(f"“{show.title}” is scheduled.")
            return redirect(url_for("admin.shows"))
    return _form_page(brand, form, None), 422


def _show_values(show: Show, tz: str) -> dict[str, object]:
    local = show.starts_at.astimezone(ZoneInfo(tz))
    return {
        "title": show.title,
        "description": show.description,
        "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
        "timezone": tz,
        "duration_minutes": str(show.duration_minutes),
        "host_ids": list(
            db().exec(select(ShowHost.associate_id).where(ShowHost.show_id == show.id))
        ),
        "product_ids": list(
            db().exec(select(ShowProduct.product_id).where(ShowProduct.show_id == show.id))
        ),
    }


@bp.route("/shows/<int:show_id>", methods=["GET", "POST"])
def edit_show(show_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    show = _show_of(brand, show_id)
    if request.method == "GET":
        return _form_page(brand, Form(values=_show_values(show, _default_timezone(brand))), show)
    form = Form.from_request()
    values = _read_show_form(form)
    if form.get("cover_from_relay"):
        try:
            values["cover_path"] = _relay_thumbnail(show)
        except DomainError as exc:
            form.absorb(exc, "cover_from_relay")
    if form.ok:
        try:
            cat.do_update_show(db(), show, **values)  # type: ignore[arg-type]
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "title")
        else:
            flash("Saved.")
            return redirect(url_for("admin.edit_show", show_id=show_id))
    return _form_page(brand, form, show), 422


def _relay_thumbnail(show: Show) -> str:
    """Keep the relay's latest picture of the show's room as its cover."""
    live = cat.live_session_for_show(db(), show)
    url = f"{current_app.config['RELAY_INTERNAL_URL']}/rooms/{live.room}/thumbnail.jpg"
    try:
        response = requests.get(url, headers=internal_headers(), timeout=5)
    except requests.RequestException:
        raise InvalidInput("The media relay cannot be reached.", field="cover_from_relay") from None
    if response.status_code != 200:
        raise InvalidInput(
            "The relay has no picture of this show yet (go live first).", field="cover_from_relay"
        )
    return save_image(
        response.content, current_app.config["UPLOAD_DIR"], "covers", field="cover_from_relay"
    )


@bp.post("/shows/<int:show_id>/cancel")
def cancel_show(show_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    show = _show_of(brand, show_id)
    try:
        cat.do_cancel_show(db(), show)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"“{show.title}” was cancelled.")
    return redirect(url_for("admin.shows"))


def is_editable(show: Show) -> bool:
    return show.status not in (ShowStatus.ENDED, ShowStatus.CANCELLED)


def local_time(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M")
