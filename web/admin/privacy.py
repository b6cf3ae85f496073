"""Privacy in the brand admin: the audit log of staff actions, and a shopper's data at the
brand (found by e-mail), exported or erased on their request."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sessions.access import access_audit_log
from sessions.errors import InvalidInput
from sessions.privacy.audit import ACTIONS, list_entries
from sessions.privacy.erase import erase_for
from sessions.privacy.export import export_for, find_shoppers
from web.admin import bp
from web.admin.forms import admin_brand, needs_login
from web.db import db
from web.privacy import after_erasure, upload_dir

Page = Response | str | tuple[str, int]


@bp.get("/audit")
def audit_log() -> Page:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    assert brand.id is not None
    access_audit_log(actor, brand.id)
    action = request.args.get("action", "")
    if action and action not in ACTIONS:
        raise InvalidInput(_("Choose an action from the list."), field="action")
    page = request.args.get("page", 1, type=int) or 1
    found = list_entries(db(), brand.id, action=action, page=page)
    return render_template(
        "admin/audit.html",
        brand=brand,
        found=found,
        actions=ACTIONS,
        action=action,
        details={e.id: json.loads(e.detail or "{}") for e in found.entries},
        section="settings",
    )


@bp.get("/shoppers")
def shopper_data() -> Page:
    if (login := needs_login()) is not None:
        return login
    _actor, brand = admin_brand()
    assert brand.id is not None
    email = request.args.get("email", "").strip()[:254]
    shoppers = find_shoppers(db(), brand.id, email) if email else []
    return render_template(
        "admin/shoppers.html", brand=brand, email=email, shoppers=shoppers, section="settings"
    )


@bp.get("/shoppers/<int:shopper_id>/export.json")
def shopper_export(shopper_id: int) -> Page:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    body = export_for(db(), actor, shopper_id, brand.id)
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="shopper-{shopper_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/shoppers/<int:shopper_id>/erase")
def shopper_erase(shopper_id: int) -> Page:
    if (login := needs_login()) is not None:
        return login
    actor, brand = admin_brand()
    if request.form.get("confirm") != "erase":
        raise InvalidInput(_("Tick the box to confirm the erasure."), field="confirm")
    erasure = erase_for(db(), actor, shopper_id, brand.id, upload_dir=upload_dir())
    after_erasure(current_app._get_current_object(), erasure)  # type: ignore[attr-defined]
    flash(_("The shopper's personal data at %(brand)s was erased.", brand=brand.name))
    return redirect(url_for("admin.shopper_data"))
