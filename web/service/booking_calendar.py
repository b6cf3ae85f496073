"""The booking calendar's edges: reading a month and a zone from a request, saying what is
wrong in the reader's language, and the words and numbers of the locale (Babel).

The JSON endpoint and the page without JavaScript share this, so both refuse the same
bad month or zone with the same 400 and the same message.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlmodel import Session

from sessions.errors import DomainError
from sessions.models import AssociateProfile
from sessions.service.appointments import matching_associates
from sessions.service.booking_month import (
    MONTHS_AHEAD,
    Filters,
    Month,
    month_is_offered,
    month_of_slots,
)

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadCalendarQuery(DomainError):
    """A month or zone the calendar cannot show: the request is wrong, not its values' types."""

    status = 400
    code = "bad_calendar_query"


def parse_zone(name: str | None, default: str) -> str:
    name = (name or "").strip() or default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadCalendarQuery(
            _("“%(zone)s” is not a time zone we know. Choose one from the list.", zone=name[:64]),
            field="tz",
        ) from None
    return name


def parse_month(text: str | None, today: date) -> date:
    """``"2026-12"`` → 1 December 2026; empty → this month. Only this month and the next
    MONTHS_AHEAD are offered."""
    if not text:
        return today.replace(day=1)
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise BadCalendarQuery(
            _("“%(month)s” is not a month: write it as year-month, e.g. 2027-03.", month=text[:16]),
            field="month",
        )
    first = date(int(match[1]), int(match[2]), 1)
    if not month_is_offered(first, today):
        raise BadCalendarQuery(
            _("Choose this month or one of the next %(n)d months.", n=MONTHS_AHEAD),
            field="month",
        )
    return first


def parse_day(text: str | None) -> date | None:
    if not text or _DAY.fullmatch(text.strip()) is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def today_in(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


@functools.cache
def zone_names() -> list[str]:
    """The zones a shopper can pick: every IANA region/city, plus UTC."""
    regions = [
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    ]
    prefixes = tuple(f"{r}/" for r in regions)
    return ["UTC", *sorted(z for z in available_timezones() if z.startswith(prefixes))]


# --- the locale's words, for the page without JavaScript and for its headings -------------


def _locale() -> Locale:
    return get_locale() or Locale("en")


def month_title(first: date) -> str:
    """ "December 2026", "décembre 2026", "2026年12月"."""
    return format_skeleton("yMMMM", first, locale=_locale())


def day_title(day: date) -> str:
    return format_date(day, "full", locale=_locale())


def time_text(instant: datetime, zone: str) -> str:
    return format_time(instant, "short", tzinfo=ZoneInfo(zone), locale=_locale())


def first_weekday() -> int:
    """0 = Monday: where the locale's week starts (the browser draws its grid from it)."""
    return int(_locale().first_week_day)


def weekday_names() -> list[str]:
    """Abbreviated weekday names, starting on the locale's first day of the week."""
    locale = _locale()
    names = get_day_names("abbreviated", context="stand-alone", locale=locale)
    first = first_weekday()
    return [names[(first + n) % 7] for n in range(7)]


def language_name(code: str) -> str:
    return _locale().languages.get(code.lower(), code.upper())


# --- one month, as the endpoint and the page without JavaScript read it -----------------


def filters_from(args: dict[str, str]) -> Filters:
    def number(key: str) -> int | None:
        value = (args.get(key) or "").strip()
        return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None

    language = (args.get("language") or "").strip().lower()
    return Filters(
        store_id=number("store_id"),
        associate_id=number("associate_id"),
        language=language if re.fullmatch(r"[a-z]{2,3}", language) else None,
        speciality=(args.get("speciality") or "").strip()[:80] or None,
    )


def load_month(
    db: Session,
    brand_id: int,
    *,
    month: str | None,
    zone: str | None,
    default_zone: str,
    filters: Filters,
    now: datetime,
) -> Month:
    """The month asked for, in the zone asked for; a bad one is a BadCalendarQuery (400)."""
    tz = parse_zone(zone, default_zone)
    first = parse_month(month, today_in(tz, now))
    return month_of_slots(db, brand_id, first=first, zone=tz, now=now, filters=filters)


def team(db: Session, brand_id: int, filters: Filters) -> list[AssociateProfile]:
    return matching_associates(
        db,
        brand_id,
        store_id=filters.store_id,
        associate_id=filters.associate_id,
        language=filters.language,
        speciality=filters.speciality,
    )


def codes(languages: str) -> list[str]:
    return [c.strip().lower() for c in languages.split(",") if c.strip()]


def languages_text(languages: str) -> str:
    """`en,fr` → "English, French" in the page's language."""
    return ", ".join(language_name(code) for code in codes(languages))


def when_text(instant: datetime, zone: str) -> str:
    """The instant as "Thursday 3 December 2026, 14:00" in the page's language, in `zone`."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{day_title(local.date())}, {time_text(instant, zone)}"
