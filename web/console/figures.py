"""An associate's own figures in the console: chats and response times, consultations,
rating, sales; a chart of their days, and every table as CSV."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sessions.access import access_associate_analytics
from sessions.analytics import metrics
from sessions.analytics.coverage import Questions, questions
from sessions.errors import NotFound
from sessions.models import AssociateProfile, Brand
from web.admin.analytics import Row, csv_response, period_from_args
from web.console import bp
from web.console.views import console_brand, signed_in_staff, to_login
from web.db import db
from web.templating import format_money


def _seconds(value: float | None) -> str:
    return "—" if value is None else _("%(n)s s", n=format_decimal(round(value)))


def own_table(a: metrics.AssociateSummary, currency: str) -> tuple[Row, list[Row]]:
    rating = (
        "—"
        if a.rating_average is None
        else f"{format_decimal(a.rating_average, '0.00')} ({format_decimal(a.ratings)})"
    )
    return (_("Figure"), _("Value")), [
        (_("Chats"), a.chats),
        (_("First response in chats, average"), _seconds(a.first_response_seconds_average)),
        (
            _("Response time in chats, average (%(n)s responses)", n=format_decimal(a.responses)),
            _seconds(a.response_seconds_average),
        ),
        (_("Consultations"), a.consultations),
        (_("Shows hosted"), a.shows_hosted),
        (_("Rating"), rating),
        (_("Bag value"), format_money(a.bag_value_minor, currency)),
        (_("Attributed revenue"), format_money(a.attributed_revenue_minor, currency)),
        (_("Talk now: asked to accepted, average"), _seconds(a.talk_now_answer_seconds_average)),
        (
            _("Reply time in consultations, average"),
            _seconds(a.consultation_reply_seconds_average),
        ),
    ]


def days_table(days: list[metrics.AssociateDay]) -> tuple[Row, list[Row]]:
    def plain(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    header = (
        _("Day (UTC)"),
        _("Chats"),
        _("Responses"),
        _("First response (s)"),
        _("Average response (s)"),
    )
    return header, [
        (
            d.day,
            d.chats,
            d.responses,
            plain(d.first_response_seconds_average),
            plain(d.response_seconds_average),
        )
        for d in days
    ]


def brand_table(q: Questions) -> tuple[Row, list[Row]]:
    return (_("The brand's chat threads"), _("This period")), [
        (_("Asked"), q.chat_threads),
        (_("Answered automatically"), q.answered_automatically),
        (_("Share answered automatically"), format_percent(q.automatic_share, "#,##0.0%")),
        (
            _("Picked up by an associate after the automatic answer"),
            q.picked_up_after_automatic,
        ),
    ]


def _own() -> tuple[Brand, AssociateProfile, datetime, datetime]:
    actor = signed_in_staff()
    assert actor is not None
    brand = console_brand(actor)
    profile = db().get(AssociateProfile, actor.associate_id) if actor.associate_id else None
    if profile is None:
        raise NotFound(_("Figures are kept per associate; brand admins see the team in Analytics."))
    access_associate_analytics(actor, profile.brand_id, profile.id or 0)
    start, end = period_from_args()
    return brand, profile, start, end


@bp.get("/figures")
def figures() -> Response | str:
    if signed_in_staff() is None:
        return to_login()
    brand, profile, start, end = _own()
    summary = metrics.associate_summary(db(), profile, start, end)
    days = metrics.associate_days(db(), profile, start, end)
    chart = {
        "responseByDay": {
            "labels": [d.day for d in days],
            "chats": [d.chats for d in days],
            "first": [d.first_response_seconds_average for d in days],
            "average": [d.response_seconds_average for d in days],
        }
    }
    return render_template(
        "console/figures.html",
        brand=brand,
        section="figures",
        profile=profile,
        start=start,
        last_day=(end - timedelta(days=1)).date(),
        table=own_table(summary, brand.currency),
        days=days_table(days),
        brand_questions=brand_table(questions(db(), brand.id or 0, start, end)),
        query=request.query_string.decode(),
        chart_data=chart,
    )


@bp.get("/figures.csv")
def figures_csv() -> Response:
    if signed_in_staff() is None:
        return to_login()
    brand, profile, start, end = _own()
    summary = metrics.associate_summary(db(), profile, start, end)
    return csv_response(f"figures-{profile.id}.csv", *own_table(summary, brand.currency))


@bp.get("/figures/days.csv")
def figures_days_csv() -> Response:
    if signed_in_staff() is None:
        return to_login()
    __, profile, start, end = _own()
    days = metrics.associate_days(db(), profile, start, end)
    return csv_response(f"figures-{profile.id}-days.csv", *days_table(days))


@bp.get("/figures/brand.csv")
def figures_brand_csv() -> Response:
    if signed_in_staff() is None:
        return to_login()
    brand, profile, start, end = _own()
    return csv_response(
        f"figures-{profile.id}-brand.csv", *brand_table(questions(db(), brand.id or 0, start, end))
    )
