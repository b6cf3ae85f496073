"""The shopper's pages: book, manage by signed link, join, talk now, leave a message, rate,
and the e-mailed sign-in link of a returning shopper."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import col, select
from werkzeug.wrappers import Response

from sessions.access import access_join, access_shopper_side
from sessions.catalogue import get_or_404
from sessions.clock import on_the_calendar, utcnow
from sessions.errors import N_, Conflict, DomainError, Forbidden, InvalidInput, NotFound
from sessions.models import (
    Appointment,
    AssociateProfile,
    AssociateStore,
    Brand,
    LiveSession,
    QueueRequest,
    SessionKind,
    Shopper,
    SignInLink,
    Store,
)
from sessions.privacy.consent import consent_state, do_decide_consent
from sessions.service import appointments, messages_left, queue, ratings, signin, threads
from sessions.service import waitlist as holds
from web.db import db
from web.errors import error_text
from web.i18n import current_language
from web.identity import current_actor, ensure_shopper
from web.service import booking_calendar as cal
from web.service import bp, services
from web.shop.views import shop_context

Page = str | Response | tuple[str, int]


def _brand(slug: str) -> Brand:
    brand = db().exec(select(Brand).where(Brand.slug == slug)).first()
    if brand is None:
        raise NotFound(N_("No brand called '%(slug)s'."), params={"slug": slug})
    return brand


def _team(brand: Brand) -> tuple[list[Store], list[AssociateProfile]]:
    stores = list(
        db().exec(select(Store).where(Store.brand_id == brand.id).order_by(col(Store.id)))
    )
    people = list(
        db().exec(
            select(AssociateProfile)
            .where(AssociateProfile.brand_id == brand.id)
            .order_by(col(AssociateProfile.display_name))
        )
    )
    return stores, people


def _languages(people: list[AssociateProfile]) -> list[str]:
    return sorted({c.strip() for p in people for c in p.languages.split(",") if c.strip()})


def _store_of(associate_id: int) -> int | None:
    link = (
        db().exec(select(AssociateStore).where(AssociateStore.associate_id == associate_id)).first()
    )
    return link.store_id if link else None


# --- booking -------------------------------------------------------------------


@bp.route("/b/<slug>/book", methods=["GET", "POST"])
def book(slug: str) -> Page:
    brand = _brand(slug)
    form = request.form.to_dict() if request.method == "POST" else request.args.to_dict()
    if request.method == "GET":
        return render_template("booking/book.html", **_book_context(brand, form))
    try:
        appointment = _book_from_form(brand, form)
    except DomainError as exc:
        page = render_template("booking/book.html", **_book_context(brand, form, error_text(exc)))
        return page, exc.status
    services.flush_outbox()
    token = appointments.manage_token(current_app.config["SECRET_KEY"], appointment)
    return redirect(url_for("service.manage", token=token, booked=1))


def _book_context(brand: Brand, form: dict[str, str], error: str | None = None) -> dict[str, Any]:
    """The booking page without JavaScript is complete: the month's days with free times
    as links, the chosen day's times as a form. With JavaScript, book.js draws the
    calendar over it from the month endpoint (web/api/service/appointments.py)."""
    assert brand.id is not None
    stores, people = _team(brand)
    filters = cal.filters_from(form)
    default_zone = stores[0].timezone if stores else "UTC"
    month = cal.load_month(
        db(),
        brand.id,
        month=form.get("month"),
        zone=form.get("tz") or form.get("timezone"),
        default_zone=default_zone,
        filters=filters,
        now=utcnow(),
    )
    day = cal.parse_day(form.get("day"))
    if day not in month.days:
        day = next(iter(month.days), None)
    return {
        **shop_context(brand),
        "stores": stores,
        "people": people,
        "languages": _languages(people),
        "team": cal.team(db(), brand.id, filters),
        "filters": filters,
        "form": form,
        "error": error,
        "month": month,
        "day": day,
        "day_slots": month.days.get(day, []) if day else [],
        "zones": cal.zone_names(),
        "cal": cal,
        "page_language": str(get_locale() or "en").split("_")[0],
    }


_SLOT = re.compile(r"(\d{1,9})\|(\d{1,9})\|([0-9T:+.Z-]{10,40})")


def _parse_slot(value: str) -> tuple[int, int, datetime]:
    """``"<associate>|<store>|<ISO start with offset>"``, as the page's list sends it."""
    refused = InvalidInput(_("Choose a time from the list."), field="slot")
    match = _SLOT.fullmatch(value)
    if match is None:
        raise refused
    try:
        starts_at = datetime.fromisoformat(match[3])
    except ValueError:
        raise refused from None
    if starts_at.tzinfo is None or not on_the_calendar(starts_at):
        raise refused
    return int(match[1]), int(match[2]), starts_at


def _book_from_form(brand: Brand, form: dict[str, str]) -> Appointment:
    associate_id, store_id, starts_at = _parse_slot(form.get("slot", ""))
    actor = ensure_shopper()
    if actor.shopper_id is None:
        raise Forbidden("Sign out of the staff account to book as a shopper.")
    assert brand.id is not None
    return appointments.do_book(
        db(),
        brand_id=brand.id,
        associate_id=associate_id,
        store_id=store_id,
        starts_at=starts_at,
        shopper_id=actor.shopper_id,
        name=form.get("name", ""),
        email=form.get("email", ""),
        timezone=form.get("timezone") or "UTC",
        language=(form.get("language") or "en")[:8],
        notes=form.get("notes", ""),
        waitlist=form.get("waitlist") == "1",
        client=request.remote_addr,
    )


# --- the signed manage link ------------------------------------------------------


def _appointment(token: str) -> Appointment:
    return appointments.appointment_from_token(db(), current_app.config["SECRET_KEY"], token)


@bp.get("/appointments/<token>")
def manage(token: str) -> Page:
    return render_template("booking/manage.html", **_manage_context(token, request.args.to_dict()))


def _manage_context(
    token: str, args: dict[str, str], move_error: str | None = None
) -> dict[str, Any]:
    """The booking and, while it can still move, the booking page's calendar over its
    associate's and store's free times (`?month=&day=` without JavaScript), in the zone the
    shopper booked in."""
    appointment = _appointment(token)
    brand = db().get(Brand, appointment.brand_id)
    profile = db().get(AssociateProfile, appointment.associate_id)
    store = db().get(Store, appointment.store_id)
    live = appointments.consultation_of(db(), appointment)
    now = utcnow()
    movable = appointment.status.value == "booked" and appointment.ends_at > now
    month, day = None, None
    if movable:
        assert brand is not None and brand.id is not None
        month = cal.load_month(
            db(),
            brand.id,
            month=args.get("month"),
            zone=args.get("tz"),
            default_zone=appointment.shopper_timezone or "UTC",
            filters=cal.Filters(
                store_id=appointment.store_id, associate_id=appointment.associate_id
            ),
            now=now,
        )
        day = cal.parse_day(args.get("day"))
        if day not in month.days:
            day = next(iter(month.days), None)
    return {
        "brand": brand,
        "appointment": appointment,
        "associate": profile,
        "store": store,
        "live": live,
        "token": token,
        "booked": args.get("booked") == "1",
        "moved": args.get("moved") == "1",
        "rescheduled": args.get("rescheduled") == "1",
        "now": now,
        "tz": ZoneInfo,
        "cal": cal,
        "month": month,
        "day": day,
        "day_slots": month.days.get(day, []) if month and day else [],
        "move_error": move_error,
    }


@bp.get("/appointments/<token>/invite.ics")
def invite(token: str) -> Response:
    from sessions.mail import build_ics
    from sessions.service.reminders import invitation

    appointment = _appointment(token)
    ics = build_ics(invitation(db(), appointment, services.links()))
    return Response(
        ics,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="consultation.ics"'},
    )


@bp.post("/appointments/<token>/cancel")
def cancel(token: str) -> Page:
    appointments.do_cancel(
        db(), _appointment(token), by="shopper", reason=request.form.get("reason", "")
    )
    services.flush_outbox()
    return redirect(url_for("service.manage", token=token))


@bp.post("/appointments/<token>/reschedule")
def reschedule(token: str) -> Page:
    appointment = _appointment(token)
    try:
        try:
            starts_at = datetime.fromisoformat(request.form.get("starts_at", "")[:40])
            if starts_at.tzinfo is None or not on_the_calendar(starts_at):
                raise ValueError
        except ValueError:
            raise InvalidInput(_("Choose a new time from the list."), field="starts_at") from None
        appointments.do_reschedule(db(), appointment, starts_at=starts_at)
    except DomainError as exc:
        # The page again, the calendar where it was, with the reason (a 4xx).
        db().rollback()
        page = render_template(
            "booking/manage.html", **_manage_context(token, request.form.to_dict(), exc.message)
        )
        return page, exc.status
    services.flush_outbox()
    return redirect(url_for("service.manage", token=token, rescheduled=1))


@bp.post("/appointments/<token>/waitlist")
def waitlist(token: str) -> Page:
    appointments.do_join_waitlist(db(), _appointment(token))
    return redirect(url_for("service.manage", token=token))


@bp.get("/appointments/<token>/hold/<int:hold_id>")
def hold(token: str, hold_id: int) -> Page:
    """The waitlist e-mail's link: the time held for this shopper, and one button to take it."""
    appointment = _appointment(token)
    held = holds.hold_of(db(), appointment, hold_id)
    store = db().get(Store, appointment.store_id)
    return render_template(
        "booking/hold.html",
        brand=db().get(Brand, appointment.brand_id),
        appointment=appointment,
        associate=db().get(AssociateProfile, appointment.associate_id),
        store=store,
        hold=held,
        open=holds.is_open(held, utcnow()),
        token=token,
        tz=ZoneInfo,
        cal=cal,
    )


@bp.post("/appointments/<token>/hold/<int:hold_id>")
def take_hold(token: str, hold_id: int) -> Page:
    appointment = _appointment(token)
    held = holds.hold_of(db(), appointment, hold_id)
    holds.do_take_hold(db(), appointment, held)
    services.flush_outbox()  # the "new time" e-mail with its calendar update
    return redirect(url_for("service.manage", token=token, moved=1))


@bp.get("/appointments/<token>/join")
def join(token: str) -> Page:
    """The e-mail's join link: it is the shopper's key, on whatever device they open it."""
    appointment = _appointment(token)
    live = appointments.consultation_of(db(), appointment)
    if live is None:
        raise NotFound("This appointment has no consultation room.")
    actor = current_actor()
    if not actor.is_staff and actor.shopper_id != appointment.shopper_id:
        shopper = db().get(Shopper, appointment.shopper_id)
        assert shopper is not None
        session["shopper_token"] = shopper.token
        session.permanent = True
    return redirect(url_for("service.room", live_session_id=live.id))


# --- the consultation room (shopper) ------------------------------------------------


@bp.get("/consult/<int:live_session_id>")
def room(live_session_id: int) -> Page:
    live = get_or_404(db(), LiveSession, live_session_id, N_("consultation"))
    if live.kind is not SessionKind.CONSULTATION:
        raise NotFound(N_("No consultation with id %(id)s."), params={"id": live_session_id})
    actor = current_actor()
    access_join(actor, live)
    brand = db().get(Brand, live.brand_id)
    profile = db().get(AssociateProfile, live.associate_id) if live.associate_id else None
    return render_template(
        "consult/room.html",
        brand=brand,
        live=live,
        side="shopper",
        mode=_mode(live),
        other_name=profile.display_name if profile else "your associate",
        # Asked on the waiting screen, before anything is kept (sessions/privacy/consent.py).
        recorded=brand is not None and brand.record_consultations,
        consent=consent_state(db(), live),
        shared_thread=threads.thread_of(db(), live.brand_id, live.shopper_id)
        if live.shopper_id is not None
        else None,
    )


@bp.post("/consult/<int:live_session_id>/consent")
def consent(live_session_id: int) -> Response | tuple[dict[str, object], int]:
    """The shopper's yes or no to keeping the recording and pictures of this consultation."""
    live = get_or_404(db(), LiveSession, live_session_id, N_("consultation"))
    decision = request.form.get("decision") or (request.get_json(silent=True) or {}).get("decision")
    if decision not in ("accept", "decline"):
        raise InvalidInput(_("Answer yes or no."), field="decision")
    row = do_decide_consent(db(), current_actor(), live, accepted=decision == "accept")
    if request.accept_mimetypes.best == "application/json":
        return {"consent": "accepted" if row.accepted else "declined"}, 200
    return redirect(url_for("service.room", live_session_id=live_session_id))


_ENTER_SALT = "vitrine.consult.enter"
# Long enough to tap the link, short enough that a copied one soon opens nothing.
ENTER_MAX_AGE = 15 * 60


def _enter_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_ENTER_SALT)


def room_entry_path(live: LiveSession) -> str:
    """A short-lived signed way into a consultation for its shopper, on any browser tab.

    A cross-site embed has no cookie (web/shop/embed.py): its shopper opens the room in a
    new tab, where this link makes that browser the consultation's shopper."""
    token = _enter_serializer().dumps([live.id, live.shopper_id])
    return url_for("service.enter_room", live_session_id=live.id, token=token)


@bp.get("/consult/<int:live_session_id>/enter/<token>")
def enter_room(live_session_id: int, token: str) -> Page:
    gone = NotFound("This link has expired. Open the video again from the chat.")
    try:
        signed = _enter_serializer().loads(token, max_age=ENTER_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        raise gone from None
    if not (isinstance(signed, list) and signed[:1] == [live_session_id] and len(signed) == 2):
        raise gone
    live = get_or_404(db(), LiveSession, live_session_id, N_("consultation"))
    shopper = db().get(Shopper, signed[1]) if isinstance(signed[1], int) else None
    if shopper is None or live.shopper_id != shopper.id or shopper.expires_at <= utcnow():
        raise gone
    actor = current_actor()
    if not actor.is_staff and actor.shopper_id != shopper.id:  # like an appointment's join link
        session["shopper_token"] = shopper.token
        session.permanent = True
    return redirect(url_for("service.room", live_session_id=live.id))


def _mode(live: LiveSession) -> str:
    """'chat' for a talk-now chat (no camera at first), else 'video'."""
    if live.queue_request_id is None:
        return "video"
    request = db().get(QueueRequest, live.queue_request_id)
    return request.mode if request else "video"


# --- talk now, messages, ratings ------------------------------------------------------


@bp.get("/b/<slug>/talk")
def talk(slug: str) -> Page:
    brand = _brand(slug)
    stores, people = _team(brand)
    assert brand.id is not None
    online = bool(queue.online_associates(db(), brand.id))
    answer = None if online else queue.offline_answer(db(), brand, utcnow(), current_language())
    return render_template(
        "booking/talk.html",
        brand=brand,
        stores=stores,
        languages=_languages(people),
        online=online,
        answer=answer,
    )


@bp.route("/b/<slug>/message", methods=["GET", "POST"])
def message(slug: str) -> Page:
    brand = _brand(slug)
    assert brand.id is not None
    form = request.form.to_dict()
    if request.method == "GET":
        return render_template("booking/message.html", brand=brand, form={}, error=None, sent=False)
    try:
        actor = ensure_shopper()
        messages_left.do_leave_message(
            db(),
            brand_id=brand.id,
            shopper_id=actor.shopper_id,
            name=form.get("name", "") or "Guest",
            email=form.get("email", ""),
            body=form.get("body", ""),
        )
    except DomainError as exc:
        page = render_template(
            "booking/message.html", brand=brand, form=form, error=error_text(exc), sent=False
        )
        return page, exc.status
    return render_template("booking/message.html", brand=brand, form={}, error=None, sent=True)


@bp.route("/b/<slug>/rate/<int:live_session_id>", methods=["GET", "POST"])
def rate(slug: str, live_session_id: int) -> Page:
    brand = _brand(slug)
    live = get_or_404(db(), LiveSession, live_session_id, N_("consultation"))
    if live.brand_id != brand.id or live.kind is not SessionKind.CONSULTATION:
        raise NotFound(N_("No consultation with id %(id)s."), params={"id": live_session_id})
    actor = current_actor()
    access_join(actor, live)
    profile = db().get(AssociateProfile, live.associate_id) if live.associate_id else None
    context: dict[str, object] = {
        "brand": brand,
        "live": live,
        "associate": profile,
        "error": None,
        "done": False,
    }
    if request.method == "GET":
        return render_template("booking/rate.html", **context)
    try:
        score = int(request.form.get("score", "0"))
    except ValueError:
        score = 0
    try:
        access_shopper_side(actor, live)
        assert actor.shopper_id is not None
        ratings.do_rate(
            db(),
            live,
            shopper_id=actor.shopper_id,
            score=score,
            comment=request.form.get("comment", ""),
        )
    except DomainError as exc:
        context["error"] = error_text(exc)
        return render_template("booking/rate.html", **context), exc.status
    context["done"] = True
    return render_template("booking/rate.html", **context)


# --- a returning shopper: the e-mailed sign-in link ------------------------------------------


_SIGNIN_SAYS = {
    "used": "This sign-in link has already been used. Ask for a new one from the chat panel.",
    "expired": "This sign-in link has expired. Ask for a new one from the chat panel.",
}


def _signin_page(token: str, link: SignInLink, state: str, status: int = 200) -> tuple[str, int]:
    brand = db().get(Brand, link.brand_id)
    page = render_template(
        "shop/signin.html",
        brand=brand,
        token=token,
        state=state,
        email=link.email,
        message=_SIGNIN_SAYS.get(state, ""),
        staff=current_actor().is_staff,
    )
    return page, status


@bp.get("/signin/<signin_token>")
def signin_link(signin_token: str) -> Page:
    """The e-mail's link: a page with one button; opening it changes nothing (a mail
    scanner that follows links spends nothing)."""
    link = signin.link_from_token(db(), current_app.config["SECRET_KEY"], signin_token)
    state = signin.state_of(link)
    return _signin_page(signin_token, link, state, 200 if state == "ready" else 410)


@bp.post("/signin/<signin_token>")
def signin_use(signin_token: str) -> Page:
    link = signin.link_from_token(db(), current_app.config["SECRET_KEY"], signin_token)
    try:
        shopper = signin.do_use_link(db(), current_actor(), link)
    except Conflict:
        return _signin_page(signin_token, link, signin.state_of(link), 410)
    session["shopper_token"] = shopper.token
    session.permanent = True
    g.pop("actor", None)
    brand = db().get(Brand, link.brand_id)
    assert brand is not None
    return redirect(url_for("shop.brand_home", slug=brand.slug, signed_in=1), code=303)
