"""What each show and associate earned: figures, charts and CSV exports for brand admins.

The figures are those of the API (sessions/analytics/metrics.py, defined in
docs/analytics.md); every table on these pages downloads as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
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


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def period_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, summary.currency)  # noqa: E731
    now, before = summary.current, summary.previous
    rows: list[tuple[str, Any]] = [
        ("Shows", lambda p: p.shows),
        ("Unique viewers", lambda p: p.unique_viewers),
        ("Watch time (minutes)", lambda p: _minutes(p.watch_seconds_total)),
        ("Chat messages", lambda p: p.messages),
        ("Hearts", lambda p: p.hearts),
        ("Add-to-bag", lambda p: p.add_to_bag_count),
        ("Add-to-bag value", lambda p: money(p.add_to_bag_value_minor)),
        ("Hand-offs to checkout", lambda p: p.handoffs),
        ("Orders", lambda p: p.orders),
        ("Revenue (net of refunds)", lambda p: money(p.revenue_minor)),
        ("Refunded", lambda p: money(p.refunded_minor)),
        ("Attributed revenue", lambda p: money(p.attributed_revenue_minor)),
        ("Influenced revenue", lambda p: money(p.influenced_revenue_minor)),
        ("Conversion (buyers / viewers)", lambda p: _percent(p.conversion)),
        ("Average order value", lambda p: money(p.average_order_value_minor)),
    ]
    return ("Figure", "This period", "Previous period"), [
        (name, get(now), get(before)) for name, get in rows
    ]


def shows_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, summary.currency)  # noqa: E731
    header = (
        "Show",
        "Started (UTC)",
        "Unique viewers",
        "Peak concurrent",
        "Watch time (minutes)",
        "Add-to-bag value",
        "Orders",
        "Revenue",
        "Influenced revenue",
        "Conversion",
    )
    return header, [
        (
            r.title,
            r.started_at.strftime("%Y-%m-%d %H:%M") if r.started_at else "",
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


def _seconds_or_dash(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def team_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, summary.currency)  # noqa: E731
    header = (
        "Rank",
        "Associate",
        "Consultations",
        "Chats",
        "Shows hosted",
        "First response (s)",
        "Average response (s)",
        "Rating",
        "Bag value",
        "Attributed revenue",
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
            "—" if a.rating_average is None else f"{a.rating_average:.2f} ({a.ratings})",
            money(a.bag_value_minor),
            money(a.attributed_revenue_minor),
        )
        for rank, a in enumerate(summary.team, start=1)
    ]


def coverage_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    return ("Day (UTC)", "Hours with an associate online"), [
        (d.day, f"{d.covered_hours:.2f}") for d in summary.coverage
    ]


def questions_table(summary: metrics.BrandSummary) -> tuple[Row, list[Row]]:
    now, before = summary.questions, summary.previous_questions
    rows: list[Row] = [
        ("Asked", now.asked, before.asked),
        ("Answered live", now.answered_live, before.answered_live),
        ("Answered later (left a message)", now.answered_later, before.answered_later),
        ("Answered automatically", now.answered_automatically, before.answered_automatically),
        ("Left waiting", now.left_waiting, before.left_waiting),
        ("Chat threads asked", now.chat_threads, before.chat_threads),
        (
            "Share of chat threads answered automatically",
            _percent(now.automatic_share),
            _percent(before.automatic_share),
        ),
        (
            "Picked up by an associate after the automatic answer",
            now.picked_up_after_automatic,
            before.picked_up_after_automatic,
        ),
    ]
    return ("Questions", "This period", "Previous period"), rows


def show_figures_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    money = lambda v: format_money(v, s.currency)  # noqa: E731
    rows: list[Row] = [
        ("Unique viewers", s.unique_viewers, s.live.unique_viewers, s.replay.unique_viewers),
        (
            "Watch time, total (minutes)",
            _minutes(s.watch_seconds_total),
            _minutes(s.live.watch_seconds_total),
            _minutes(s.replay.watch_seconds_total),
        ),
        (
            "Watch time, average (minutes)",
            _minutes(s.watch_seconds_average),
            _minutes(s.live.watch_seconds_average),
            _minutes(s.replay.watch_seconds_average),
        ),
        ("Peak concurrent viewers", s.peak_concurrent, s.peak_concurrent, ""),
        ("Average concurrent viewers", f"{s.average_concurrent:.2f}", "", ""),
        ("Chat messages (by shoppers)", f"{s.messages} ({s.messages_by_shoppers})", "", ""),
        ("Hearts", s.hearts, "", ""),
        ("Product clicks", s.product_clicks, "", ""),
        (
            "Add-to-bag",
            s.add_to_bag_count,
            s.live.add_to_bag_count,
            s.replay.add_to_bag_count,
        ),
        (
            "Add-to-bag value",
            money(s.add_to_bag_value_minor),
            money(s.live.add_to_bag_value_minor),
            money(s.replay.add_to_bag_value_minor),
        ),
        ("Hand-offs to checkout", s.handoffs, "", ""),
        ("Orders", s.orders, s.live.orders, s.replay.orders),
        (
            "Revenue (net of refunds)",
            money(s.revenue_minor),
            money(s.live.revenue_minor),
            money(s.replay.revenue_minor),
        ),
        ("Refunded", money(s.refunded_minor), "", ""),
        (
            "Conversion (buyers / viewers)",
            _percent(s.conversion),
            _percent(s.live.conversion),
            _percent(s.replay.conversion),
        ),
        ("Average order value", money(s.average_order_value_minor), "", ""),
        (
            "Influenced orders (revenue)",
            f"{s.influenced_orders} ({money(s.influenced_revenue_minor)})",
            "",
            "",
        ),
    ]
    return ("Figure", "Total", "Live", "Replay"), rows


def minutes_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    pins: dict[int, list[str]] = {}
    for pin in s.pins:
        pins.setdefault(pin.minute, []).append(pin.name)
    return ("Minute", "Viewers", "Pinned"), [
        (minute, viewers, ", ".join(pins.get(minute, [])))
        for minute, viewers in enumerate(s.viewers_by_minute)
    ]


def products_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    return ("Product", "Clicks", "Add-to-bag", "Add-to-bag value"), [
        (p.name, p.clicks, p.adds, format_money(p.add_value_minor, s.currency)) for p in s.products
    ]


def participation_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    p = s.participation
    return ("Polls and questions", "Count", "Share"), [
        ("Polls", p.polls, ""),
        ("Poll votes", p.poll_votes, ""),
        ("Voters (share of viewers)", p.poll_voters, _percent(p.voters_share)),
        ("Questions asked", p.questions, ""),
        ("Shoppers who asked", p.questioners, ""),
        ("Question upvotes", p.question_upvotes, ""),
        ("Answered live (on air)", p.questions_answered_live, _percent(p.answered_live_share)),
        (
            "Answered automatically",
            p.questions_answered_automatically,
            _percent(p.answered_automatically_share),
        ),
        ("Hidden by a host", p.questions_hidden, ""),
        ("Left waiting", p.questions_waiting, _percent(p.waiting_share)),
    ]


def polls_table(s: metrics.ShowSummary) -> tuple[Row, list[Row]]:
    return ("Poll", "Minute", "Votes", "Leading answer"), [
        (poll.question, poll.minute, poll.votes, poll.leading)
        for poll in s.participation.polls_list
    ]


# --- CSV ---------------------------------------------------------------------------------


def _cell(value: object) -> object:
    """Keep a spreadsheet from running a cell as a formula (names come from staff input)."""
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
            raise InvalidInput(f"Give the {name} date as YYYY-MM-DD.", field=name) from None

    return period_of(day("start"), day("end"))


def _brand_summary() -> tuple[Brand, metrics.BrandSummary]:
    _, brand = admin_brand()
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
    _, brand = admin_brand()
    access_brand_analytics(current_actor(), brand.id or 0)
    raw = request.form.get("attribution_window_days", "").strip()
    days: object = int(raw) if raw.isdigit() else raw
    do_set_attribution_window(db(), brand, days)
    flash(f"Orders now count as influenced for {brand.attribution_window_days} days.")
    return redirect(url_for("admin.analytics"))


@bp.get("/analytics/<table>.csv")
def analytics_csv(table: str) -> Response:
    build = BRAND_TABLES.get(table)
    if build is None:
        raise NotFound(f"No table {table!r}; choose one of {', '.join(BRAND_TABLES)}.")
    brand, summary = _brand_summary()
    start = summary.current.start.date().isoformat()
    return csv_response(f"{brand.slug}-{table}-{start}.csv", *build(summary))


def _show_summary(show_id: int) -> tuple[Brand, Show, metrics.ShowSummary]:
    _, brand = admin_brand()
    show = db().get(Show, show_id)
    if show is None or show.brand_id != brand.id:
        raise NotFound(f"No show with id {show_id}.")
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
            "labels": ["Viewers", "Engaged", "Added to bag", "Ordered"],
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
        raise NotFound(f"No table {table!r}; choose one of {', '.join(SHOW_TABLES)}.")
    _, show, summary = _show_summary(show_id)
    return csv_response(f"show-{show.id}-{table}.csv", *build(summary))
