"""Shows: create (scheduled or as a draft), edit, and the lifecycle's buttons — exactly
the moves the admin may make in the show's state (sessions/shows/lifecycle.py) — plus the
replay's trim, the count of reminders asked, and a cover from an upload or the relay."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import requests
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import col, select
from werkzeug.wrappers import Response

from sessions.access import Actor, access_show_programme
from sessions.errors import DomainError, InvalidInput, NotFound
from sessions.models import (
    AssociateProfile,
    Brand,
    Product,
    Show,
    ShowHost,
    ShowProduct,
    Store,
)
from sessions.shows import captions, invitees, lifecycle, private
from sessions.shows.lifecycle import STATUS_WORDS, ShowAction
from sessions.shows.reminders import reminder_count, reminder_counts
from web.admin import bp
from web.admin.brand_texts import save_brand_texts
from web.admin.forms import Form, admin_brand, needs_login
from web.admin.images import save_image
from web.db import db
from web.errors import error_text
from web.identity import current_actor
from web.relay import internal_headers
from web.relays import relay_of
from web.shows import flush_show_mails, show_mailer
from web.staff_i18n import ACTION_DONE, ACTION_LABELS


def _default_timezone(brand: Brand) -> str:
    store = db().exec(select(Store).where(Store.brand_id == brand.id)).first()
    return store.timezone if store else "UTC"


def _show_of(brand: Brand, show_id: int) -> Show:
    show = db().get(Show, show_id)
    if show is None or show.brand_id != brand.id:
        raise NotFound(_("No show with id %(id)s.", id=show_id))
    return show


def _form_page(brand: Brand, form: Form, show: Show | None, error: str | None = None) -> str:
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
    actor = current_actor()
    return render_template(
        "admin/show_form.html",
        brand=brand,
        form=form,
        show=show,
        hosts=hosts,
        products=products,
        buttons=admin_buttons(lifecycle.actions_for(db(), actor, show)) if show else [],
        can_trim=show is not None
        and ShowAction.TRIM_REPLAY in lifecycle.actions_for(db(), actor, show),
        reminders=reminder_count(db(), show) if show else 0,
        editable=show is None or show.status in lifecycle.EDITABLE,
        replay=show.replay_path if show else None,
        captions=captions.captions_of(db(), show) if show else [],
        invitees=invitees.invitees_of(db(), actor, show) if show and show.private else [],
        caption_languages=captions.LANGUAGES,
        status_words=STATUS_WORDS,
        error=error,
        section="shows",
    )


def _list_page(brand: Brand, actor: Actor, error: str | None = None) -> str:
    rows = (
        db()
        .exec(select(Show).where(Show.brand_id == brand.id).order_by(col(Show.starts_at).desc()))
        .all()
    )
    return render_template(
        "admin/shows.html",
        brand=brand,
        shows=rows,
        buttons={s.id: admin_buttons(lifecycle.actions_for(db(), actor, s)) for s in rows},
        reminders=reminder_counts(db(), [s.id for s in rows if s.id is not None]),
        error=error,
        section="shows",
    )


@bp.get("/shows")
def shows() -> Response | str:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    return _list_page(brand, actor)


def _read_show_form(form: Form) -> dict[str, object]:
    tz = form.get("timezone", "UTC").strip() or "UTC"
    values: dict[str, object] = {
        "title": form.text("title", _("a title"), required=True),
        "description": form.text("description", _("the description"), max_length=5000),
        "starts_at": form.local_datetime("starts_at", tz, _("the start")),
        "duration_minutes": form.integer(
            "duration_minutes", _("the length"), minimum=5, maximum=600
        ),
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
    brand = admin_brand()[1]
    if request.method == "GET":
        form = Form(values={"duration_minutes": "45", "timezone": _default_timezone(brand)})
        return _form_page(brand, form, None)
    form = Form.from_request()
    values = _read_show_form(form)
    draft = request.form.get("then") == "draft"
    if form.ok:
        try:
            show = lifecycle.do_create_show(
                db(),
                brand_id=brand.id or 0,
                draft=draft,
                **values,  # type: ignore[arg-type]
            )
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "title")
        else:
            save_brand_texts("show", brand, show.id)
            flash(f"“{show.title}” is {'saved as a draft' if draft else 'scheduled'}.")
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
        "trim_start": _clock(show.replay_start_seconds),
        "trim_end": _clock(show.replay_end_seconds),
    }


def _clock(seconds: float | None) -> str:
    """1:02:03.5 for the trim fields (empty: not set)."""
    if seconds is None:
        return ""
    whole, rest = divmod(seconds, 1)
    hours, left = divmod(int(whole), 3600)
    minutes, secs = divmod(left, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return text + (f"{rest:.1f}"[1:] if rest >= 0.05 else "")


@bp.route("/shows/<int:show_id>", methods=["GET", "POST"])
def edit_show(show_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    if request.method == "GET":
        return _form_page(brand, Form(values=_show_values(show, _default_timezone(brand))), show)
    access_show_programme(actor, show)
    form = Form.from_request()
    values = _read_show_form(form)
    if form.get("cover_from_relay"):
        try:
            values["cover_path"] = _relay_thumbnail(show)
        except DomainError as exc:
            form.absorb(exc, "cover_from_relay")
    if form.ok:
        try:
            lifecycle.do_update_show(db(), show, **values)  # type: ignore[arg-type]
        except DomainError as exc:
            db().rollback()
            form.absorb(exc, "title")
        else:
            save_brand_texts("show", brand, show.id)
            flash(_("Saved."))
            return redirect(url_for("admin.edit_show", show_id=show_id))
    return _form_page(brand, form, show), 422


def _relay_thumbnail(show: Show) -> str:
    """Keep the relay's latest picture of the show's room as its cover."""
    live = lifecycle.live_session_for_show(db(), show)
    url = f"{relay_of(live).internal_url}/rooms/{live.room}/thumbnail.jpg"
    try:
        response = requests.get(url, headers=internal_headers(), timeout=5)
    except requests.RequestException:
        raise InvalidInput(
            _("The media relay cannot be reached."), field="cover_from_relay"
        ) from None
    if response.status_code != 200:
        raise InvalidInput(
            _("The relay has no picture of this show yet (go live first)."),
            field="cover_from_relay",
        )
    return save_image(
        response.content, current_app.config["UPLOAD_DIR"], "covers", field="cover_from_relay"
    )


# The buttons of the admin's moves, by the name in their address.
BUTTONS = {
    "schedule": ShowAction.SCHEDULE,
    "cancel": ShowAction.CANCEL,
    "publish-replay": ShowAction.PUBLISH_REPLAY,
    "hide-replay": ShowAction.HIDE_REPLAY,
}

SLUGS = {action: slug for slug, action in BUTTONS.items()}


def admin_buttons(actions: list[ShowAction]) -> list[dict[str, str]]:
    """The admin's buttons among the actions allowed now (start and end are the host's,
    in the console; the trim has its own form)."""
    return [
        {
            "slug": SLUGS[a],
            "label": ACTION_LABELS[a],
            "danger": "danger" if a is ShowAction.CANCEL else "",
        }
        for a in actions
        if a in SLUGS
    ]


def _back(show: Show) -> Response:
    if request.form.get("back") == "show":
        return redirect(url_for("admin.edit_show", show_id=show.id))
    return redirect(url_for("admin.shows"))


def _refused(brand: Brand, actor: Actor, show: Show, exc: DomainError) -> tuple[str, int]:
    """The page the button was on, with the refusal (a 409 says what the show is now)."""
    db().rollback()
    if request.form.get("back") == "show":
        form = Form(values=_show_values(show, _default_timezone(brand)))
        return _form_page(brand, form, show, error=error_text(exc)), exc.status
    return _list_page(brand, actor, error=error_text(exc)), exc.status


@bp.post("/shows/<int:show_id>/<any(schedule, cancel, 'publish-replay', 'hide-replay'):button>")
def show_transition(show_id: int, button: str) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    action = BUTTONS[button]
    try:
        lifecycle.ACTIONS[action](db(), actor, show)
    except DomainError as exc:
        return _refused(brand, actor, show, exc)
    flush_show_mails()  # a cancellation tells whoever asked to be reminded, now
    flash(str(ACTION_DONE[action]) % {"title": show.title})
    return _back(show)


def _seconds(form: Form, name: str, label: str, *, required: bool) -> float | None:
    """Seconds as typed: 75, 75.5, 1:15 or 1:01:15."""
    raw = form.get(name).strip()
    if not raw:
        if required:
            form.fail(name, _("Enter %(label)s.", label=label))
        return None
    try:
        parts = [float(p) for p in raw.split(":")]
        if len(parts) > 3 or len(raw) > 12 or any(p < 0 or p != p for p in parts):
            raise ValueError
    except ValueError:
        form.fail(name, _("Enter %(label)s in seconds, or as minutes:seconds.", label=label))
        return None
    total = 0.0
    for part in parts:
        total = total * 60 + part
    return total


@bp.post("/shows/<int:show_id>/trim")
def trim_replay(show_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    form = Form.from_request()
    start = _seconds(form, "trim_start", _("the start"), required=False) or 0.0
    end = _seconds(form, "trim_end", _("the end"), required=False)
    if form.ok:
        try:
            lifecycle.do_trim_replay(db(), actor, show, start_seconds=start, end_seconds=end)
        except DomainError as exc:
            if exc.status == 409:
                return _refused(brand, actor, show, exc)
            db().rollback()
            names = {"start_seconds": "trim_start", "end_seconds": "trim_end"}
            form.absorb(exc, "trim_start", names)
        else:
            flash(_("The replay's trim is saved."))
            return redirect(url_for("admin.edit_show", show_id=show.id))
    values = _show_values(show, _default_timezone(brand)) | form.values
    return _form_page(brand, Form(values=values, errors=form.errors), show), 422


@bp.post("/shows/<int:show_id>/captions")
def upload_captions(show_id: int) -> Response | str | tuple[str, int]:
    """The replay's captions in one language: a WebVTT file, checked before it is kept;
    a bad one answers the page again (422) with what is wrong beside the field."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    form = Form.from_request()
    upload = request.files.get("captions")
    raw = upload.read(captions.MAX_BYTES + 1) if upload is not None and upload.filename else b""
    try:
        captions.do_set_captions(
            db(), actor, show, form.get("language"), raw, user_id=actor.user_id
        )
    except DomainError as exc:
        db().rollback()
        form.absorb(exc, "captions")
        values = _show_values(show, _default_timezone(brand)) | form.values
        return _form_page(brand, Form(values=values, errors=form.errors), show), exc.status
    flash(_("The captions are saved: the replay offers them."))
    return redirect(url_for("admin.edit_show", show_id=show.id))


@bp.post("/shows/<int:show_id>/captions/<language>/remove")
def remove_captions(show_id: int, language: str) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    captions.do_remove_captions(db(), actor, show, language)
    flash(_("The captions are removed."))
    return redirect(url_for("admin.edit_show", show_id=show.id))


@bp.post("/shows/<int:show_id>/invitees")
def invite_to_show(show_id: int) -> Response | str | tuple[str, int]:
    """Invite people to a private show: a name and an e-mail a line (or a pasted CSV);
    each new one is e-mailed a personal link."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    form = Form.from_request()
    try:
        rows = invitees.parse_invitees(form.get("invitees"))
        made, already = invitees.do_invite(db(), actor, show, rows)
    except DomainError as exc:
        db().rollback()
        values = _show_values(show, _default_timezone(brand)) | form.values
        if "field" not in exc.details:  # about the show (public, over), not what was typed
            return _form_page(brand, Form(values=values), show, error=error_text(exc)), exc.status
        form.absorb(exc, "invitees")
        return _form_page(brand, Form(values=values, errors=form.errors), show), exc.status
    sent = invitees.send_invitations(
        db(), show_mailer(), brand, show, made, current_app.config["PUBLIC_URL"]
    )
    words = _("%(n)s invited, %(sent)s e-mailed their link.", n=len(made), sent=sent)
    if already:
        words += " " + _("%(n)s were already invited.", n=already)
    flash(words)
    return redirect(url_for("admin.edit_show", show_id=show.id) + "#invitees-heading")


@bp.post("/shows/<int:show_id>/invitees/<int:invitee_id>/revoke")
def revoke_invitee(show_id: int, invitee_id: int) -> Response | str | tuple[str, int]:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    invitee = invitees.do_revoke_invitee(db(), actor, show, invitee_id)
    flash(_("%(name)s’s link no longer opens the show.", name=invitee.name))
    return redirect(url_for("admin.edit_show", show_id=show.id) + "#invitees-heading")


@bp.post("/shows/<int:show_id>/private")
def show_private(show_id: int) -> Response | str | tuple[str, int]:
    """Make a show private with an access code (or change it), or public again."""
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    show = _show_of(brand, show_id)
    form = Form.from_request()
    code = None if request.form.get("make") == "public" else form.get("access_code")
    try:
        private.do_set_show_private(db(), actor, show, code)
    except DomainError as exc:
        db().rollback()
        form.absorb(exc, "access_code")
        values = _show_values(show, _default_timezone(brand))
        return _form_page(brand, Form(values=values, errors=form.errors), show), exc.status
    flash(
        _("The show is private: share its link and its code.")
        if show.private
        else _("It is public.")
    )
    return redirect(url_for("admin.edit_show", show_id=show.id))


def is_editable(show: Show) -> bool:
    return show.status in lifecycle.EDITABLE


def local_time(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M")
