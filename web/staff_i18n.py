"""The staff side in the staff member's language: dates, times and figures of the console
and the brand admin formatted by their locale (Babel, through Flask-Babel's locale) and
shown in the store's time zone, and the words the domain keeps in English (show states,
weekdays) as translatable labels.

Templates use the filters ``staff_when`` (date and time), ``staff_day``, ``staff_clock``
(a wall time such as a store's opening hour), ``staff_number`` and ``staff_percent``, and
``staff_zone()`` for the zone the times are in.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import Flask, g
from flask_babel import format_decimal, format_percent, get_locale, lazy_gettext
from sqlmodel import col, select

from sessions.models import AssociateStatus, AssociateStore, ShowStatus, Store
from sessions.shows.lifecycle import ShowAction
from web import js_strings
from web.db import db
from web.identity import current_actor

Length = Literal["full", "long", "medium", "short"]
S = ShowStatus
STATUS_WORDS = {
    S.DRAFT: lazy_gettext("Draft"),
    S.SCHEDULED: lazy_gettext("Scheduled"),
    S.LIVE: lazy_gettext("Live"),
    S.ENDED: lazy_gettext("Ended"),
    S.REPLAY_PUBLISHED: lazy_gettext("Replay published"),
    S.REPLAY_HIDDEN: lazy_gettext("Replay hidden"),
    S.CANCELLED: lazy_gettext("Cancelled"),
}

A = ShowAction
# The admin's show buttons, and what the flash after one says: "“Spring edit” was cancelled."
ACTION_LABELS = {
    A.SCHEDULE: lazy_gettext("Schedule"),
    A.CANCEL: lazy_gettext("Cancel"),
    A.START: lazy_gettext("Go live"),
    A.END: lazy_gettext("End show"),
    A.PUBLISH_REPLAY: lazy_gettext("Publish replay"),
    A.HIDE_REPLAY: lazy_gettext("Hide replay"),
    A.TRIM_REPLAY: lazy_gettext("Save trim"),
}
ACTION_DONE = {
    A.SCHEDULE: lazy_gettext("“%(title)s” is scheduled."),
    A.CANCEL: lazy_gettext("“%(title)s” was cancelled."),
    A.PUBLISH_REPLAY: lazy_gettext("“%(title)s” has its replay published."),
    A.HIDE_REPLAY: lazy_gettext("“%(title)s” has its replay hidden."),
}
ASSOCIATE_STATUS_WORDS = {
    AssociateStatus.ONLINE: lazy_gettext("Online"),
    AssociateStatus.AWAY: lazy_gettext("Away"),
    AssociateStatus.OFFLINE: lazy_gettext("Offline"),
}


def weekday_name(weekday: int) -> str:
    """Monday is 0, as in Python; the name in the page's language ("lundi", "星期一")."""
    return str(babel_dates.get_day_names("wide", locale=get_locale())[weekday]).capitalize()


def staff_zone() -> str:
    """The time zone of the console's times: the associate's first store, else the brand's
    first store (the brand has no zone of its own), else UTC."""
    if "staff_zone" not in g:
        g.staff_zone = _zone_of(current_actor().associate_id, current_actor().brand_id)
    zone: str = g.staff_zone
    return zone


def _zone_of(associate_id: int | None, brand_id: int | None) -> str:
    query = select(Store.timezone).order_by(col(Store.id))
    if associate_id is not None:
        own = db().exec(
            query.join(AssociateStore, col(AssociateStore.store_id) == col(Store.id)).where(
                AssociateStore.associate_id == associate_id
            )
        )
        zone = own.first()
        if zone:
            return zone
    if brand_id is not None:
        zone = db().exec(query.where(Store.brand_id == brand_id)).first()
        if zone:
            return zone
    return "UTC"


def staff_when(value: datetime | None, zone: str | None = None, format: Length = "medium") -> str:
    """An instant in the staff member's locale and the store's zone, to the minute
    ("3 déc. 2026, 18:30", "2026年12月3日 18:30"): the locale's date of that length and
    its short time, joined as the locale joins them."""
    if value is None:
        return ""
    locale = get_locale()
    local = value.astimezone(ZoneInfo(zone or staff_zone()))
    joined = babel_dates.get_datetime_format(format, locale=locale)
    day = babel_dates.format_date(local.date(), format, locale=locale)
    clock = babel_dates.format_time(local.time(), "short", locale=locale)
    return str(joined).replace("{1}", day).replace("{0}", clock)


def staff_day(value: date | datetime | None, format: Length = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(staff_zone())).date()
    return babel_dates.format_date(value, format, locale=get_locale())


def staff_clock(value: time | None) -> str:
    """A wall-clock time as the locale writes it (no zone conversion: it is the store's)."""
    if value is None:
        return ""
    return babel_dates.format_time(value, "short", locale=get_locale())


def staff_cell(value: object) -> object:
    """A figures-table cell for the page: numbers and instants in the reader's locale (the
    same rows go to the CSV plain, web/admin/analytics.py)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return format_decimal(value)
    if isinstance(value, datetime):
        return staff_when(value, format="short")
    return value


def zone_label(zone: str) -> str:
    """The zone as people read it in their language ("heure : France", "中国（上海）时间");
    UTC stays "UTC" (CLDR would call it an unknown region)."""
    if zone in ("UTC", "Etc/UTC", "GMT"):
        return "UTC"
    return babel_dates.get_timezone_location(ZoneInfo(zone), locale=get_locale())


def init_app(app: Flask) -> None:
    app.add_template_filter(staff_when)
    app.add_template_filter(staff_day)
    app.add_template_filter(staff_clock)
    app.add_template_filter(staff_cell)
    app.add_template_filter(format_decimal, "staff_number")
    app.add_template_filter(format_percent, "staff_percent")
    app.add_template_global(staff_zone)
    app.add_template_global(zone_label)
    app.add_template_global(weekday_name)
    app.jinja_env.globals["status_words"] = STATUS_WORDS
    app.jinja_env.globals["associate_status_words"] = ASSOCIATE_STATUS_WORDS
    js_strings.init_app(app)
