"""An associate's own figures in the console: consultations, response times, rating, sales."""

from __future__ import annotations

from flask import render_template
from werkzeug.wrappers import Response

from sessions.access import access_associate_analytics
from sessions.analytics import metrics
from sessions.errors import NotFound
from sessions.models import AssociateProfile
from web.admin.analytics import Row, csv_response, period_from_args
from web.console import bp
from web.console.views import console_brand, signed_in_staff, to_login
from web.db import db
from web.templating import format_money


def own_table(a: metrics.AssociateSummary, currency: str) -> tuple[Row, list[Row]]:
    def seconds(value: float | None) -> str:
        return "—" if value is None else f"{value:.0f} s"

    return ("Figure", "Value"), [
        ("Consultations", a.consultations),
        ("Chats answered", a.chats),
        ("Shows hosted", a.shows_hosted),
        ("First response, average", seconds(a.first_response_seconds_average)),
        ("Reply time in consultations, average", seconds(a.response_seconds_average)),
        ("Rating", "—" if a.rating_average is None else f"{a.rating_average:.2f} ({a.ratings})"),
        ("Bag value", format_money(a.bag_value_minor, currency)),
        ("Attributed revenue", format_money(a.attributed_revenue_minor, currency)),
    ]


def _own() -> tuple[AssociateProfile, metrics.AssociateSummary, str]:
    actor = signed_in_staff()
    assert actor is not None
    brand = console_brand(actor)
    profile = db().get(AssociateProfile, actor.associate_id) if actor.associate_id else None
    if profile is None:
        raise NotFound("Figures are kept per associate; brand admins see the team in Analytics.")
    access_associate_analytics(actor, profile.brand_id, profile.id or 0)
    start, end = period_from_args()
    return profile, metrics.associate_summary(db(), profile, start, end), brand.currency


@bp.get("/figures")
def figures() -> Response | str:
    actor = signed_in_staff()
    if actor is None:
        return to_login()
    profile, summary, currency = _own()
    brand = console_brand(actor)
    return render_template(
        "console/figures.html",
        brand=brand,
        section="figures",
        profile=profile,
        table=own_table(summary, currency),
    )


@bp.get("/figures.csv")
def figures_csv() -> Response:
    if signed_in_staff() is None:
        return to_login()
    profile, summary, currency = _own()
    return csv_response(f"figures-{profile.id}.csv", *own_table(summary, currency))
