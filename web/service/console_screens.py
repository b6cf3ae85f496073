"""Console pages for what had only an API: hours and their exceptions, messages left.

The pages are server-rendered; what changes is read and written through the API by
small modules (web/static/js/console-hours.js, console-messages.js), and messages
left arrive by Socket.IO push (`message_left`).
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from sqlmodel import col, select

from sessions.access import ActorKind, access_associate
from sessions.catalogue import get_or_404
from sessions.errors import NotFound
from sessions.i18n import N_
from sessions.models import AssociateProfile, Brand
from sessions.service import hours
from web.console.views import console_brand, signed_in_staff, to_login
from web.db import db
from web.service import bp
from web.service.console import Page


def _brand_associates(brand: Brand) -> list[AssociateProfile]:
    return list(
        db()
        .exec(
            select(AssociateProfile)
            .where(AssociateProfile.brand_id == brand.id)
            .order_by(col(AssociateProfile.display_name))
        )
        .all()
    )


@bp.get("/console/hours")
def console_hours() -> Page:
    """The associate's weekly hours and exceptions; a brand admin picks any associate."""
    actor = signed_in_staff()
    if actor is None:
        return to_login()
    brand = console_brand(actor)
    is_admin = actor.kind in (ActorKind.BRAND_ADMIN, ActorKind.PLATFORM_ADMIN)
    team = _brand_associates(brand) if is_admin else []
    chosen = request.args.get("associate", type=int) or actor.associate_id
    if chosen is None:
        if not team:
            raise NotFound(_("This brand has no associates yet: add them in Brand admin → People."))
        chosen = team[0].id
    profile = get_or_404(db(), AssociateProfile, chosen or 0, N_("associate"))
    access_associate(actor, profile)  # themself, or their brand's admin
    stores = hours.stores_of(db(), profile)
    names = {s.id: s for s in stores}
    week = [
        (h.weekday, names.get(h.store_id), h.start_time, h.end_time)
        for h in hours.weekly_hours_of(db(), profile)
    ]
    return render_template(
        "console/hours.html",
        brand=brand,
        section="hours",
        profile=profile,
        own=profile.id == actor.associate_id,
        team=team,
        stores=stores,
        week=week,
        stores_json={str(store.id): store.name for store in stores},
    )


@bp.get("/console/messages")
def console_messages() -> Page:
    """Messages left for the brand, open first, with an answer form (sent by e-mail)."""
    actor = signed_in_staff()
    if actor is None:
        return to_login()
    brand = console_brand(actor)
    return render_template("console/messages.html", brand=brand, section="messages")
