"""Stores and associates: open stores, invite staff, languages, specialities, weekly hours,
and each associate's consultation limits, bio and photo."""

from __future__ import annotations

from datetime import time

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlmodel import col, select
from werkzeug.wrappers import Response

from sessions import catalogue as cat
from sessions.accounts import do_set_role, do_set_user_active, invitations
from sessions.brands import (
    ASSOCIATE_LIMITS,
    check_associate_service,
    do_set_associate_service,
    do_update_associate,
)
from sessions.errors import N_, DomainError, InvalidInput, NotFound
from sessions.models import (
    AssociateProfile,
    AssociateStore,
    Brand,
    Role,
    StaffInvitation,
    Store,
    User,
    WeeklyHours,
)
from sessions.service.hours import WorkSpan, do_set_weekly_hours
from web.admin import bp
from web.admin.forms import Form, admin_brand, needs_login
from web.admin.images import save_image
from web.auth.mails import flush as flush_mails
from web.db import db
from web.errors import error_text
from web.identity import sign_in

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
    serving = {user.id for _, user in associates}  # an admin who also serves is listed once
    admins = [
        user
        for user in db().exec(
            select(User).where(User.brand_id == brand.id, User.role == Role.BRAND_ADMIN)
        )
        if user.id not in serving
    ]
    return render_template(
        "admin/people.html",
        brand=brand,
        stores=_stores(brand),
        associates=associates,
        admins=admins,
        store_form=store_form,
        invite_form=invite_form,
        invitations=invitations.pending(db(), brand.id or 0),
        invitation_state=invitations.state_of,
        section="people",
    )


@bp.get("/people")
def people() -> Response | str:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    return _people_page(
        brand,
        Form(values={"timezone": "Europe/Paris"}),
        Form(values={"role": "associate", "languages": "en"}),
    )


@bp.post("/stores")
def create_store() -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    form = Form.from_request()
    name = form.text("name", _("the store's name"), required=True, max_length=120)
    timezone = form.text("timezone", _("a time zone"), required=True, max_length=64)
    if form.ok:
        try:
            cat.do_create_store(
                db(),
                brand_id=brand.id or 0,
                name=name,
                timezone=timezone,
                city=form.text("city", _("the city"), max_length=120),
                address=form.text("address", _("the address"), max_length=255),
            )
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "name")
        else:
            flash(_("Store “%(name)s” opened.", name=name))
            return redirect(url_for("admin.people"))
    return _people_page(brand, form, Form(values={"role": "associate", "languages": "en"})), 422


@bp.post("/associates")
def invite() -> Response | str | tuple[str, int]:
    """Invite staff (an associate with their stores, or another brand admin): they get an
    e-mail with a link to set their own password (sessions/accounts/invitations.py)."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    form = Form.from_request()
    name = form.text("name", _("a name"), required=True, max_length=120)
    email = form.text("email", _("an e-mail address"), required=True, max_length=254)
    role = form.get("role", "associate")
    store_ids = [int(s) for s in request.form.getlist("store_ids") if s.isdigit()]
    if role not in ("associate", "brand_admin"):
        form.fail("role", _("Choose a role."))
    if role == "associate" and not store_ids:
        form.fail("store_ids", _("Choose at least one store."))
    if form.ok:
        try:
            invitations.do_invite(
                db(),
                actor,
                brand_id=brand.id or 0,
                email=email,
                name=name,
                role=Role(role),
                secret=current_app.config["SECRET_KEY"],
                store_ids=store_ids,
                languages=form.get("languages", "en"),
                specialities=form.get("specialities"),
                locale=str(get_locale() or "en"),
            )
        except DomainError as exc:
            db().rollback()
            form.fail(str(exc.details.get("field") or "email"), error_text(exc))
        else:
            flush_mails()
            flash(_("Invitation sent to %(email)s.", email=email.strip().lower()))
            return redirect(url_for("admin.people"))
    form.values["store_ids"] = store_ids
    return _people_page(brand, Form(values={"timezone": "Europe/Paris"}), form), 422


def _invitation_of(brand: Brand, invitation_id: int) -> StaffInvitation:
    invitation = db().get(StaffInvitation, invitation_id)
    if invitation is None or invitation.brand_id != brand.id:
        raise NotFound(
            N_("No invitation with id %(id)s in this brand."), params={"id": invitation_id}
        )
    return invitation


@bp.post("/invitations/<int:invitation_id>/resend")
def resend_invitation(invitation_id: int) -> Response:
    """A new link by e-mail, valid for the full period again; the old one stops working."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    invitation = _invitation_of(brand, invitation_id)
    invitations.do_resend(db(), actor, invitation, secret=current_app.config["SECRET_KEY"])
    flush_mails()
    flash(_("A new invitation link was sent to %(email)s.", email=invitation.email))
    return redirect(url_for("admin.people"))


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id: int) -> Response:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    invitation = _invitation_of(brand, invitation_id)
    invitations.do_revoke(db(), actor, invitation)
    flash(_("The invitation to %(email)s was revoked.", email=invitation.email))
    return redirect(url_for("admin.people"))


def _member(brand: Brand, user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None or user.brand_id != brand.id:
        raise NotFound(N_("No staff member with id %(id)s in this brand."), params={"id": user_id})
    return user


@bp.post("/people/<int:user_id>/role")
def set_role(user_id: int) -> Response:
    """Associate ↔ brand admin; their sessions end so the new role holds everywhere."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    user = _member(brand, user_id)
    raw = request.form.get("role", "")
    if raw not in ("associate", "brand_admin"):
        raise InvalidInput(_("Choose a role."), field="role")
    do_set_role(db(), actor, user, role=Role(raw))
    if user.id == actor.user_id:  # one's own: this browser carries on in the new role
        sign_in(user)
    flash(
        _("%(name)s is now a brand admin.", name=user.name)
        if user.role is Role.BRAND_ADMIN
        else _("%(name)s is now an associate.", name=user.name)
    )
    demoted_self = user.id == actor.user_id and user.role is Role.ASSOCIATE
    return redirect(url_for("console.index") if demoted_self else url_for("admin.people"))


@bp.post("/people/<int:user_id>/active")
def set_user_active(user_id: int) -> Response:
    """Deactivate (every session and socket of theirs ends at once) or reactivate staff."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    user = _member(brand, user_id)
    active = request.form.get("active") == "1"
    do_set_user_active(db(), actor, user, active=active)
    flash(
        _("%(name)s can sign in again.", name=user.name)
        if active
        else _("%(name)s is signed out everywhere and can no longer sign in.", name=user.name)
    )
    return redirect(url_for("admin.people"))


def _profile_of(brand: Brand, associate_id: int) -> AssociateProfile:
    profile = db().get(AssociateProfile, associate_id)
    if profile is None or profile.brand_id != brand.id:
        raise NotFound(_("No associate with id %(id)s.", id=associate_id))
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
                _("Use a photo under %(mb)s MB.", mb=MAX_PHOTO_BYTES // (1024 * 1024)),
                field="photo",
            )
        return save_image(data, current_app.config["UPLOAD_DIR"], "people", field="photo")
    except DomainError as exc:
        form.absorb(exc, "photo")
        return None


@bp.get("/associates/<int:associate_id>")
def associate(associate_id: int) -> Response | str:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
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
        form.fail(name, _("Use a time like 09:30."))
        return None


def _spans(form: Form) -> list[WorkSpan]:
    spans = []
    for i in range(HOUR_ROWS):
        day, start_raw = form.get(f"day_{i}"), form.get(f"start_{i}").strip()
        if day == "" and not start_raw:
            continue
        if not day.isdigit() or not 0 <= int(day) <= 6:
            form.fail(f"day_{i}", _("Choose a day."))
            continue
        start, end = _parse_time(form, f"start_{i}"), _parse_time(form, f"end_{i}")
        store = form.get(f"store_{i}")
        if not store.isdigit():
            form.fail(f"store_{i}", _("Choose a store."))
            continue
        if start and end:
            if start >= end:
                form.fail(f"end_{i}", _("End after the start."))
            spans.append(WorkSpan(weekday=int(day), store_id=int(store), start=start, end=end))
    return spans


@bp.post("/associates/<int:associate_id>")
def update_associate(associate_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
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
            flash(_("Saved."))
            return redirect(url_for("admin.associate", associate_id=associate_id))
    return _associate_page(brand, profile, form), 422
