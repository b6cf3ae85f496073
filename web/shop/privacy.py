"""The shopper's "Your data" page: download everything Vitrine holds about them (JSON),
or erase it. The download is a GET and changes nothing; the erasure is a POST with a
ticked confirmation."""

from __future__ import annotations

import json

from flask import Response, current_app, g, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from sessions.access import Actor
from sessions.errors import Forbidden, InvalidInput
from sessions.privacy.erase import erase_for
from sessions.privacy.export import export_for
from sessions.privacy.tables import find_rows
from web.db import db
from web.identity import GUEST_KEY, current_actor
from web.privacy import after_erasure, upload_dir
from web.shop import bp
from web.shop.views import brand_by_slug, shop_context

# What the page calls the kinds of records a shopper has; the others are counted as "other".
LABELS = {
    "threads": lazy_gettext("Conversations"),
    "thread_messages": lazy_gettext("Messages in your conversations"),
    "chat_messages": lazy_gettext("Chat messages"),
    "appointments": lazy_gettext("Bookings"),
    "live_sessions": lazy_gettext("Consultations"),
    "bags": lazy_gettext("Bags"),
    "bag_lines": lazy_gettext("Pieces in bags"),
    "orders": lazy_gettext("Orders"),
    "show_questions": lazy_gettext("Questions in shows"),
    "poll_votes": lazy_gettext("Votes in shows"),
    "show_reminders": lazy_gettext("Show reminders"),
    "offline_messages": lazy_gettext("Messages left"),
    "ratings": lazy_gettext("Ratings"),
}


def _summary(shopper_id: int | None) -> dict[str, int]:
    """How many records of each kind are theirs (what the page lists before the buttons)."""
    if shopper_id is None:
        return {}
    found = find_rows(db(), shopper_id)
    counts: dict[str, int] = {}
    other = 0
    for table, rows in sorted(found.rows.items()):
        if table in LABELS:
            counts[str(LABELS[table])] = len(rows)
        elif table != "shoppers":
            other += len(rows)
    if other:
        counts[_("Other records (times, links, statistics)")] = other
    return counts


def _shopper_only() -> Actor:
    actor = current_actor()
    if actor.is_staff:
        raise Forbidden(
            _("You are signed in as staff: a shopper's data is exported or erased from the admin.")
        )
    return actor


@bp.get("/b/<slug>/your-data")
def your_data(slug: str) -> str:
    brand = brand_by_slug(slug)
    actor = current_actor()
    return render_template(
        "shop/your_data.html",
        summary=_summary(None if actor.is_staff else actor.shopper_id),
        staff=actor.is_staff,
        **shop_context(brand),
    )


@bp.get("/b/<slug>/your-data/export.json")
def export_data(slug: str) -> Response:
    """Everything about this browser's shopper, as a file to keep."""
    brand_by_slug(slug)
    actor = _shopper_only()
    if actor.shopper_id is None:
        body: dict[str, object] = {"format": "vitrine-shopper-export/1", "tables": {}}
    else:
        body = export_for(db(), actor, actor.shopper_id, None)
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="vitrine-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/b/<slug>/your-data/erase")
def erase_data(slug: str) -> str | tuple[str, int]:
    brand = brand_by_slug(slug)
    actor = _shopper_only()
    if request.form.get("confirm") != "erase":
        raise InvalidInput(
            _("Tick the box to confirm that everything about you is to be erased."),
            field="confirm",
        )
    if actor.shopper_id is not None:  # a browser that never did anything has nothing to erase
        erasure = erase_for(db(), actor, actor.shopper_id, None, upload_dir=upload_dir())
        after_erasure(current_app._get_current_object(), erasure)  # type: ignore[attr-defined]
    session.pop(GUEST_KEY, None)  # the browser starts again as a stranger
    g.pop("actor", None)
    return render_template("shop/your_data_erased.html", **shop_context(brand))
