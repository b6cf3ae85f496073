"""Stores and associates: open stores, invite staff, languages, specialities, weekly hours,
and each associate's consultation limits, bio and photo."""

from __future__ import annotations

from datetime import time

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlmodel import col, select
from werkzeug.wrappers import Response

from sessions import catalogue as cat
from sessions.accounts import do_create_associate, do_create_user, do_set_user_active
from sessions.brands import (
    ASSOCIATE_LIMITS,
    check_associate_service,
    do_set_associate_service,
    do_update_associate,
)
from sessions.errors import DomainError, InvalidInput, NotFound
from sessions.models import (
    AssociateProfile,
    AssociateStore,
    Brand,
    Role,
    Store,
    User,
    WeeklyHours,
)
from sessions.service.hours import WorkSpan, do_set_weekly_hours
from web.admin import bp
from web.admin.forms import Form, admin_brand, needs_login
from web.admin.images import save_image
from web.db import db

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOUR_ROWS = 10


def _stores(brand: Brand) -> list[Store]:
    return list(db().exec(select(Store).where(Store.brand_id == brand.id).order_by(col(Store.id))))


def _people_page(brand: Brand, store_form: Form, invite_form: Form) -> str:
    associates = (
        db()
        .exec(
            select(AssociateProfile, User)
            .join(User, col(User.id) == col(AssociateProfile.user_id))
            .where(AssociateProfile.brand_id == brand.id)
            .order_by(col(AssociateProfile.display_name))
        )
        .all()
    )
    admins = (
        db()
        .exec(select(User).where(User.brand_id == brand.id, User.role == Role.BRAND_ADMIN))
        .all()
    )
    return render_template(
        "admin/people.html",
        brand=brand,
        stores=_stores(brand),
        associates=associates,
        admins=admins,
        store_form=store_form,
        invite_form=invite_form,
        section="people",
    )


@bp.get("/people")
def people() -> Response | str:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    return _people_page(
        brand,
        Form(values={"timezone": "Europe/Paris"}),
        Form(values={"role": "associate", "languages": "en"}),
    )


@bp.post("/stores")
def create_store() -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    form = Form.from_request()
    name = form.text("name", "the store's name", required=True, max_length=120)
    timezone = form.text("timezone", "a time zone", required=True, max_length=64)
    if form.ok:
        try:
            cat.do_create_store(
                db(),
                brand_id=brand.id or 0,
                name=name,
                timezone=timezone,
                city=form.text("city", "the city", max_length=120),
                address=form.text("address", "the address", max_length=255),
            )
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "name")
        else:
            flash(f"Store “{name}” opened.")
            return redirect(url_for("admin.people"))
    return _people_page(brand, form, Form(values={"role": "associate", "languages": "en"})), 422


@bp.post("/associates")
def invite() -> Response | str | tuple[str, int]:
    """Invite staff: an associate (with a profile) or another brand admin."""
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    form = Form.from_request()
    name = form.text("name", "a name", required=True, max_length=120)
    email = form.text("email", "an e-mail address", required=True, max_length=254)
    password = form.get("password")
    role = form.get("role", "associate")
    store_ids = [int(s) for s in request.form.getlist("store_ids") if s.isdigit()]
    if role not in ("associate", "brand_admin"):
        form.fail("role", "Choose a role.")
    if role == "associate" and not store_ids:
        form.fail("store_ids", "Choose at least one store.")
    if form.ok:
        try:
            if role == "associate":
                do_create_associate(
                    db(),
                    brand_id=brand.id or 0,
                    email=email,
                    name=name,
                    password=password,
                    store_ids=store_ids,
                    languages=form.get("languages", "en"),
                    specialities=form.get("specialities"),
                )
            else:
                do_create_user(
                    db(),
                    email=email,
                    name=name,
                    password=password,
                    role=Role.BRAND_ADMIN,
                    brand_id=brand.id,
                )
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "email")
        else:
            flash(f"{name} can now sign in with {email}.")
            return redirect(url_for("admin.people"))
    form.values["store_ids"] = store_ids
    return _people_page(brand, Form(values={"timezone": "Europe/Paris"}), form), 422


@bp.post("/people/<int:user_id>/active")
def set_user_active(user_id: int) -> Response:
    """Deactivate (every session and socket of theirs ends at once) or reactivate staff."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    user = db().get(User, user_id)
    if user is None or user.brand_id != brand.id:
        raise NotFound(f"No staff member with id {user_id} in this brand.")
    active = request.form.get("active") == "1"
    do_set_user_active(db(), actor, user, active=active)
    flash(
        f"{user.name} can sign in again."
        if active
        else f"{user.name} is signed out and can no longer sign in."
    )
    return redirect(url_for("admin.people"))


def _profile_of(brand: Brand, associate_id: int) -> AssociateProfile:
    profile = db().get(AssociateProfile, associate_id)
    if profile is None or profile.brand_id != brand.id:
        raise NotFound(f"No associate with id {associate_id}.")
    return profile


def _hours_values(profile: AssociateProfile) -> dict[str, str]:
    rows = (
        db()
        .exec(
            select(WeeklyHours)
            .where(WeeklyHours.associate_id == profile.id)
            .order_by(col(WeeklyHours.weekday), col(WeeklyHours.start_time))
        )
        .all()
    )
    values: dict[str, str] = {}
    for i, row in enumerate(rows[:HOUR_ROWS]):
        values[f"day_{i}"] = str(row.weekday)
        values[f"store_{i}"] = str(row.store_id)
        values[f"start_{i}"] = row.start_time.strftime("%H:%M")
        values[f"end_{i}"] = row.end_time.strftime("%H:%M")
    return values


def _associate_page(brand: Brand, profile: AssociateProfile, form: Form) -> str:
    linked = set(
        db()
        .exec(select(AssociateStore.store_id).where(AssociateStore.associate_id == profile.id))
        .all()
    )
    return render_template(
        "admin/associate.html",
        brand=brand,
        profile=profile,
        form=form,
        stores=_stores(brand),
        linked=linked,
        weekdays=WEEKDAYS,
        hour_rows=HOUR_ROWS,
        section="people",
    )


# A face for the shopper's panel: a small picture is plenty (re-encoded to 600 px).
MAX_PHOTO_BYTES = 2 * 1024 * 1024


def _service_values(profile: AssociateProfile) -> dict[str, str]:
    values = {name: str(getattr(profile, name)) for name, *_ in ASSOCIATE_LIMITS}
    return values | {"bio": profile.bio}


def _photo(form: Form) -> str | None:
    """The uploaded photo, checked (a JPEG, PNG or WebP under 2 MB) and re-encoded."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    data = upload.read(MAX_PHOTO_BYTES + 1)
    try:
        if len(data) > MAX_PHOTO_BYTES:
            raise InvalidInput(
                f"Use a photo under {MAX_PHOTO_BYTES // (1024 * 1024)} MB.", field="photo"
            )
        return save_image(data, current_app.config["UPLOAD_DIR"], "people", field="photo")
    except DomainError as exc:
        form.absorb(exc, "photo")
        return None


@bp.get("/associates/<int:associate_id>")
def associate(associate_id: int) -> Response | str:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    profile = _profile_of(brand, associate_id)
    values = {
        "display_name": profile.display_name,
        "languages": profile.languages,
        "specialities": profile.specialities,
        **_service_values(profile),
        **_hours_values(profile),
    }
    return _associate_page(brand, profile, Form(values=values))


def _parse_time(form: Form, name: str) -> time | None:
    raw = form.get(name).strip()
    try:
        return time.fromisoformat(raw)
    except ValueError:
        form.fail(name, "Use a time like 09:30.")
        return None


def _spans(form: Form) -> list[WorkSpan]:
    spans = []
    for i in range(HOUR_ROWS):
        day, start_raw = form.get(f"day_{i}"), form.get(f"start_{i}").strip()
        if day == "" and not start_raw:
            continue
        if not day.isdigit() or not 0 <= int(day) <= 6:
            form.fail(f"day_{i}", "Choose a day.")
            continue
        start, end = _parse_time(form, f"start_{i}"), _parse_time(form, f"end_{i}")
        store = form.get(f"store_{i}")
        if not store.isdigit():
            form.fail(f"store_{i}", "Choose a store.")
            continue
        if start and end:
            if start >= end:
                form.fail(f"end_{i}", "End after the start.")
            spans.append(WorkSpan(weekday=int(day), store_id=int(store), start=start, end=end))
    return spans


@bp.post("/associates/<int:associate_id>")
def update_associate(associate_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    _, brand = admin_brand()
    profile = _profile_of(brand, associate_id)
    form = Form.from_request()
    store_ids = [int(s) for s in request.form.getlist("store_ids") if s.isdigit()]
    spans = _spans(form)
    photo_path = _photo(form)
    service = {name: form.get(name) for name, *_ in ASSOCIATE_LIMITS}
    try:  # checked before anything is saved: a refused value leaves the associate as is
        check_associate_service(bio=form.get("bio"), **service)
    except DomainError as exc:
        form.absorb(exc, "bio")
    if form.ok:
        try:
            do_update_associate(
                db(),
                profile,
                display_name=form.get("display_name"),
                languages=form.get("languages"),
                specialities=form.get("specialities"),
                store_ids=store_ids,
            )
            do_set_associate_service(
                db(),
                profile,
                bio=form.get("bio"),
                photo_path=photo_path,
                **service,
            )
            do_set_weekly_hours(db(), profile, spans)
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "display_name")
        else:
            flash("Saved.")
            return redirect(url_for("admin.associate", associate_id=associate_id))
    return _associate_page(brand, profile, form), 422
