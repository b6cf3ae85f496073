"""A show as a calendar event (.ics): the show page's "add to calendar" and the file
attached to reminder e-mails are the same event (same UID), so a calendar that has it
once keeps it once."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from sessions.i18n import translator
from sessions.models import Brand, Show


def show_zone(store_timezone: str | None) -> ZoneInfo:
    """The zone a show is told in: its store's, else UTC."""
    return ZoneInfo(store_timezone or "UTC")


def show_calendar(
    show: Show,
    brand: Brand,
    page_url: str,
    *,
    store_timezone: str | None = None,
    method: str | None = None,
    language: str | None = None,
    title: str | None = None,
    description: str | None = None,
) -> bytes:
    """The show as one VEVENT; ``method`` "PUBLISH" for a file attached to an e-mail.
    Summary and description in ``language`` (the brand's texts given in it: ``title``,
    ``description``; else its own)."""
    _ = translator(language).gettext
    title = title or show.title
    description = show.description if description is None else description
    zone = show_zone(store_timezone)
    cal = Calendar()
    cal.add("prodid", "-//Vitrine//Live shows//EN")
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    event = Event()
    event.add("uid", f"show-{show.id}@vitrine")
    event.add("summary", f"{brand.name}: {title}")
    event.add("dtstart", show.starts_at.astimezone(zone))
    event.add("dtend", (show.starts_at + timedelta(minutes=show.duration_minutes)).astimezone(zone))
    event.add("dtstamp", show.created_at)
    watch = _("Watch live: %(url)s") % {"url": page_url}
    event.add("description", f"{description}\n\n{watch}".strip())
    event.add("url", page_url)
    event.add("location", page_url)
    event.add("status", "CANCELLED" if show.status.value == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    if zone.key != "UTC":
        cal.add_missing_timezones()
    return bytes(cal.to_ical())
