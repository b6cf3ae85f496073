"""The associate's side: their day (appointments, waiting shoppers, messages) and the room."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sessions.access import access_host
from sessions.catalogue import get_or_404
from sessions.errors import Forbidden, NotFound
from sessions.i18n import N_
from sessions.models import AssociateProfile, Brand, LiveSession, SessionKind, Thread
from sessions.privacy.consent import consent_state
from sessions.service import threads
from web.console.colour import variant_choices
from web.console.views import console_brand, signed_in_staff, to_login
from web.db import db
from web.identity import current_actor
from web.service import bp

Page = str | Response


def _to_login() -> Response:
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@bp.get("/console/today")
def today() -> Page:
    actor = current_actor()
    if not actor.is_staff:
        return _to_login()
    if actor.associate_id is None:
        raise Forbidden(_("Only associates have a day of consultations; sign in as one."))
    profile = get_or_404(db(), AssociateProfile, actor.associate_id, N_("associate"))
    brand = db().get(Brand, profile.brand_id)
    return render_template("consult/today.html", profile=profile, brand=brand)


@bp.get("/console/consult/<int:live_session_id>")
def associate_room(live_session_id: int) -> Page:
    actor = current_actor()
    if not actor.is_staff:
        return _to_login()
    live = get_or_404(db(), LiveSession, live_session_id, N_("consultation"))
    if live.kind is not SessionKind.CONSULTATION:
        raise NotFound(_("No consultation with id %(id)s.", id=live_session_id))
    access_host(actor, live)
    brand = db().get(Brand, live.brand_id)
    return render_template(
        "consult/room.html",
        brand=brand,
        live=live,
        side="associate",
        mode="video",
        other_name="the shopper",
        shared_thread=_thread_of(live),
        colour_variants=variant_choices(live.brand_id),
        recorded=brand is not None and brand.record_consultations,
        consent=consent_state(db(), live),
    )


def _thread_of(live: LiveSession) -> Thread | None:
    """The shopper's thread with the brand: its shared bag is the room's."""
    if live.shopper_id is None:
        return None
    return threads.thread_of(db(), live.brand_id, live.shopper_id)


@bp.get("/console/inbox")
def inbox() -> Page:
    """The live inbox: waiting, mine, colleagues' (web/static/js/console-inbox.js)."""
    actor = signed_in_staff()
    if actor is None:
        return to_login()
    brand = console_brand(actor)
    return render_template("console/inbox.html", brand=brand, section="inbox")
