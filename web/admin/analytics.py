"""What each show and associate earned: figures, charts and CSV exports for brand admins.

The figures are those of the API (sessions/analytics/metrics.py, defined in
docs/analytics.md); every table on these pages downloads as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from sessions.access import access_brand_analytics
from sessions.analytics import metrics
from sessions.analytics.orders import MAX_WINDOW_DAYS, do_set_attribution_window
from sessions.errors import InvalidInput, NotFound
from sessions.models import Brand, Show
from sessions.shows.lifecycle import live_session_for_show
from web.admin import bp
from web.admin.forms import admin_brand, needs_login
from web.api.analytics import period_of
from web.db import db
from web.identity import current_actor
from web.templating import format_money

Row = Sequence[object]


# --- tables: one definition serves the page and its CSV ------------------------------------


# Cells keep their type: the page formats numbers and instants by the reader's locale
# (web/staff_i18n.py staff_cell), the CSV writes them plain.
def _minutes(seconds: float) -> float:
    return round(seconds / 60, 1)


def _percent(value: float) -> str:
    return format_percent(value, "#,##0.0%")


def _rating(average: float | None, count: int) -> str:
    return "—" if average is None else f"{format_decimal(average, '0.00')} ({count})"


def period_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, summary.currency)  # noqa: E731
    now, before = summary.current, summary.previous
    rows: list[tuple[str, Any]] = [
        (_("Shows"), lambda p: p.shows),
        (_("Unique viewers"), lambda p: p.unique_viewers),
        (_("Watch time (minutes)"), lambda p: _minutes(p.watch_seconds_total)),
        (_("Chat messages"), lambda p: p.messages),
        (_("Hearts"), lambda p: p.hearts),
        (_("Add-to-bag"), lambda p: p.add_to_bag_count),
        (_("Add-to-bag value"), lambda p: money(p.add_to_bag_value_minor)),
        (_("Hand-offs to checkout"), lambda p: p.handoffs),
        (_("Orders"), lambda p: p.orders),
        (_("Revenue (net of refunds)"), lambda p: money(p.revenue_minor)),
        (_("Refunded"), lambda p: money(p.refunded_minor)),
        (_("Attributed revenue"), lambda p: money(p.attributed_revenue_minor)),
        (_("Influenced revenue"), lambda p: money(p.influenced_revenue_minor)),
        (_("Conversion (buyers / viewers)"), lambda p: _percent(p.conversion)),
        (_("Average order value"), lambda p: money(p.average_order_value_minor)),
    ]
    return (_("Figure"), _("This period"), _("Previous period")), [
        (name, get(now), get(before)) for name, get in rows
    ]


def shows_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, summary.currency)  # noqa: E731
    header = (
        _("Show"),
        _("Started (UTC)"),
        _("Unique viewers"),
        _("Peak concurrent"),
        _("Watch time (minutes)"),
        _("Add-to-bag value"),
        _("Orders"),
        _("Revenue"),
        _("Influenced revenue"),
        _("Conversion"),
    )
    return header, [
        (
            r.title,
            r.started_at or "",
            r.unique_viewers,
            r.peak_concurrent,
            _minutes(r.watch_seconds_total),
            money(r.add_to_bag_value_minor),
            r.orders,
            money(r.revenue_minor),
            money(r.influenced_revenue_minor),
            _percent(r.conversion),
        )
        for r in summary.shows
    ]


def _seconds_or_dash(value: float | None) -> int | str:
    return "—" if value is None else round(value)


def team_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, summary.currency)  # noqa: E731
    header = (
        _("Rank"),
        _("Associate"),
        _("Consultations"),
        _("Chats"),
        _("Shows hosted"),
        _("First response (s)"),
        _("Average response (s)"),
        _("Rating"),
        _("Bag value"),
        _("Attributed revenue"),
    )
    return header, [
        (
            rank,
            a.name,
            a.consultations,
            a.chats,
            a.shows_hosted,
            _seconds_or_dash(a.first_response_seconds_average),
            _seconds_or_dash(a.response_seconds_average),
            _rating(a.rating_average, a.ratings),
            money(a.bag_value_minor),
            money(a.attributed_revenue_minor),
        )
        for rank, a in enumerate(summary.team, start=1)
    ]


def coverage_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    return (_("Day (UTC)"), _("Hours with an associate online")), [
        (d.day, round(d.covered_hours, 2)) for d in summary.coverage
    ]


def questions_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    now, before = summary.questions, summary.previous_questions
    rows: list[Row] = [
        (_("Asked"), now.asked, before.asked),
        (_("Answered live"), now.answered_live, before.answered_live),
        (_("Answered later (left a message)"), now.answered_later, before.answered_later),
        (_("Answered automatically"), now.answered_automatically, before.answered_automatically),
        (_("Left waiting"), now.left_waiting, before.left_waiting),
        (_("Chat threads asked"), now.chat_threads, before.chat_threads),
        (
            _("Share of chat threads answered automatically"),
            _percent(now.automatic_share),
            _percent(before.automatic_share),
        ),
        (
            _("Picked up by an associate after the automatic answer"),
            now.picked_up_after_automatic,
            before.picked_up_after_automatic,
        ),
    ]
    return (_("Questions"), _("This period"), _("Previous period")), rows


def show_figures_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, s.currency)  # noqa: E731
    rows: list[Row] = [
        (_("Unique viewers"), s.unique_viewers, s.live.unique_viewers, s.replay.unique_viewers),
        (
            _("Watch time, total (minutes)"),
            _minutes(s.watch_seconds_total),
            _minutes(s.live.watch_seconds_total),
            _minutes(s.replay.watch_seconds_total),
        ),
        (
            _("Watch time, average (minutes)"),
            _minutes(s.watch_seconds_average),
            _minutes(s.live.watch_seconds_average),
            _minutes(s.replay.watch_seconds_average),
        ),
        (_("Peak concurrent viewers"), s.peak_concurrent, s.peak_concurrent, ""),
        (_("Average concurrent viewers"), round(s.average_concurrent, 2), "", ""),
        (_("Chat messages (by shoppers)"), f"{s.messages} ({s.messages_by_shoppers})", "", ""),
        (_("Hearts"), s.hearts, "", ""),
        (_("Product clicks"), s.product_clicks, "", ""),
        (
            _("Add-to-bag"),
            s.add_to_bag_count,
            s.live.add_to_bag_count,
            s.replay.add_to_bag_count,
        ),
        (
            _("Add-to-bag value"),
            money(s.add_to_bag_value_minor),
            money(s.live.add_to_bag_value_minor),
            money(s.replay.add_to_bag_value_minor),
        ),
        (_("Hand-offs to checkout"), s.handoffs, "", ""),
        (_("Orders"), s.orders, s.live.orders, s.replay.orders),
        (
            _("Revenue (net of refunds)"),
            money(s.revenue_minor),
            money(s.live.revenue_minor),
            money(s.replay.revenue_minor),
        ),
        (_("Refunded"), money(s.refunded_minor), "", ""),
        (
            _("Conversion (buyers / viewers)"),
            _percent(s.conversion),
            _percent(s.live.conversion),
            _percent(s.replay.conversion),
        ),
        (_("Average order value"), money(s.average_order_value_minor), "", ""),
        (
            _("Influenced orders (revenue)"),
            f"{s.influenced_orders} ({money(s.influenced_revenue_minor)})",
            "",
            "",
        ),
    ]
    return (_("Figure"), _("Total"), _("Live"), _("Replay")), rows


def minutes_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    pins: dict[int, list[str]] = {}
    for pin in s.pins:
        pins.setdefault(pin.minute, []).append(pin.name)
    return (_("Minute"), _("Viewers"), _("Pinned")), [
        (minute, viewers, ", ".join(pins.get(minute, [])))
        for minute, viewers in enumerate(s.viewers_by_minute)
    ]


def products_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    return (_("Product"), _("Clicks"), _("Add-to-bag"), _("Add-to-bag value")), [
        (p.name, p.clicks, p.adds, format_money(p.add_value_minor, s.currency)) for p in s.products
    ]


def participation_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    p = s.participation
    return (_("Polls and questions"), _("Count"), _("Share")), [
        (_("Polls"), p.polls, ""),
        (_("Poll votes"), p.poll_votes, ""),
        (_("Voters (share of viewers)"), p.poll_voters, _percent(p.voters_share)),
        (_("Questions asked"), p.questions, ""),
        (_("Shoppers who asked"), p.questioners, ""),
        (_("Question upvotes"), p.question_upvotes, ""),
        (_("Answered live (on air)"), p.questions_answered_live, _percent(p.answered_live_share)),
        (
            _("Answered automatically"),
            p.questions_answered_automatically,
            _percent(p.answered_automatically_share),
        ),
        (_("Hidden by a host"), p.questions_hidden, ""),
        (_("Left waiting"), p.questions_waiting, _percent(p.waiting_share)),
    ]


def polls_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    return (_("Poll"), _("Minute"), _("Votes"), _("Leading answer")), [
        (poll.question, poll.minute, poll.votes, poll.leading)
        for poll in s.participation.polls_list
    ]


# --- CSV ---------------------------------------------------------------------------------


def _cell(value: object) -> object:
    """Keep a spreadsheet from running a cell as a formula (names come from staff input)."""
    if isinstance(value, datetime):  # an instant: UTC, as the header says
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filename: str, header: Row, rows: Iterable[Row]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- pages ---------------------------------------------------------------------------------


def period_from_args() -> tuple[datetime, datetime]:
    """The period of a page's ?start=&end= (UTC days), as the API reads it."""

    def day(name: str) -> date | None:
        raw = request.args.get(name, "")
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(
                _("Give the %(name)s date as YYYY-MM-DD.", name=name), field=name
            ) from None

    return period_of(day("start"), day("end"))


def _brand_summary() -> tuple[Brand, metrics.BrandSummary]:
    brand = admin_brand()[1]
    assert brand.id is not None
    start, end = period_from_args()
    return brand, metrics.brand_summary(db(), brand.id, start, end)


BRAND_TABLES = {
    "period": period_table,
    "shows": shows_table,
    "team": team_table,
    "coverage": coverage_table,
    "questions": questions_table,
}
SHOW_TABLES = {
    "figures": show_figures_table,
    "minutes": minutes_table,
    "products": products_table,
    "participation": participation_table,
    "polls": polls_table,
}


@bp.get("/analytics")
def analytics() -> BaseResponse | str:
    if (login := needs_login()) is not None:
        return login
    brand, summary = _brand_summary()
    chart = {
        "currency": summary.currency,
        "revenueByShow": {
            "labels": [r.title for r in summary.shows],
            "attributed": [r.revenue_minor / 100 for r in summary.shows],
            "influenced": [r.influenced_revenue_minor / 100 for r in summary.shows],
        },
        "teamResponse": {
            "labels": [a.name for a in summary.team],
            "first": [a.first_response_seconds_average for a in summary.team],
            "average": [a.response_seconds_average for a in summary.team],
        },
    }
    return render_template(
        "admin/analytics.html",
        brand=brand,
        section="analytics",
        summary=summary,
        tables={name: table(summary) for name, table in BRAND_TABLES.items()},
        query=request.query_string.decode(),
        last_day=(summary.current.end - timedelta(days=1)).date(),
        max_window=MAX_WINDOW_DAYS,
        chart_data=chart,
    )


@bp.post("/analytics/window")
def analytics_window() -> BaseResponse | tuple[str, int]:
    """The brand's influence window, set from the analytics page."""
    if (login := needs_login()) is not None:
        return login
    brand = admin_brand()[1]
    access_brand_analytics(current_actor(), brand.id or 0)
    raw = request.form.get("attribution_window_days", "").strip()
    days: object = int(raw) if raw.isdigit() else raw
    do_set_attribution_window(db(), brand, days)
    flash(
        _(
            "Orders now count as influenced for %(days)s days.",
            days=brand.attribution_window_days,
        )
    )
    return redirect(url_for("admin.analytics"))


@bp.get("/analytics/<table>.csv")
def analytics_csv(table: str) -> Response:
    build = BRAND_TABLES.get(table)
    if build is None:
        raise NotFound(
            _(
                "No table “%(table)s”; choose one of %(tables)s.",
                table=table,
                tables=", ".join(BRAND_TABLES),
            )
        )
    brand, summary = _brand_summary()
    start = summary.current.start.date().isoformat()
    return csv_response(f"{brand.slug}-{table}-{start}.csv", *build(summary))


def _show_summary(show_id: int) -> tuple[Brand, Show, metrics.ShowSummary]:
    brand = admin_brand()[1]
    show = db().get(Show, show_id)
    if show is None or show.brand_id != brand.id:
        raise NotFound(_("No show with id %(id)s.", id=show_id))
    access_brand_analytics(current_actor(), show.brand_id)
    return brand, show, metrics.show_summary(db(), live_session_for_show(db(), show))


@bp.get("/analytics/shows/<int:show_id>")
def show_analytics(show_id: int) -> BaseResponse | str:
    if (login := needs_login()) is not None:
        return login
    brand, show, summary = _show_summary(show_id)
    chart = {
        "viewers": summary.viewers_by_minute,
        "pins": [{"minute": p.minute, "name": p.name} for p in summary.pins],
        "funnel": {
            "labels": [_("Viewers"), _("Engaged"), _("Added to bag"), _("Ordered")],
            "values": [
                summary.funnel.viewers,
                summary.funnel.engaged,
                summary.funnel.added,
                summary.funnel.ordered,
            ],
        },
    }
    return render_template(
        "admin/show_analytics.html",
        brand=brand,
        section="analytics",
        show=show,
        summary=summary,
        tables={name: table(summary) for name, table in SHOW_TABLES.items()},
        chart_data=chart,
    )


@bp.get("/analytics/shows/<int:show_id>/<table>.csv")
def show_analytics_csv(show_id: int, table: str) -> Response:
    build = SHOW_TABLES.get(table)
    if build is None:
        raise NotFound(
            _(
                "No table “%(table)s”; choose one of %(tables)s.",
                table=table,
                tables=", ".join(SHOW_TABLES),
            )
        )
    __, show, summary = _show_summary(show_id)
    return csv_response(f"show-{show.id}-{table}.csv", *build(summary))
