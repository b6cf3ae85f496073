"""Booking a consultation end to end in French and in Simplified Chinese, in real Chromium
through the month calendar: pick a day, a time, fill the form, book. Asserted in that
language: the month and weekday names and the times as Babel writes them, the day's
counted sentence in its plural (ui.js tn(): 0 and 1 singular in French, 2 plural), the
confirmation page, and the e-mailed confirmation with its .ics (a real SMTP server).

French comes from the page's language switch (a cookie); Chinese from the browser's
Accept-Language (zh-CN)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_day_names
from icalendar import Calendar
from sqlmodel import Session, select

from sessions.i18n import translator
from sessions.models import Appointment
from tests.booking.conftest import SmtpServer, Team, staff
from tests.browser.conftest import axe_violations
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
LOADED = "#booking[data-loaded] [data-times] input[name=slot]"


@dataclass
class Site:
    url: str
    team: Team
    smtp: SmtpServer


@pytest.fixture
def site(
    database_url: str, tmp_path: Path, factory: Factory, session: Session, smtp: SmtpServer
) -> Iterator[Site]:
    team = staff(factory, session)
    team.brand.name = "Maison Aurele"
    session.add(team.brand)
    session.commit()
    env = {"SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)}
    with WebServer(database_url, tmp_path, create_schema=False, env=env) as server:
        yield Site(server.url, team, smtp)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def check_calendar(page: Any, lang: str, zone: str) -> None:
    """The grid's month and weekday names and the first time, as Babel writes them."""
    locale = Locale.parse(lang)
    month = page.locator("[data-grid] button[data-day]").first.get_attribute("data-day")
    first = date.fromisoformat(month).replace(day=1)
    assert page.locator("[data-month-title]").inner_text() == format_skeleton(
        "yMMMM", first, locale=locale
    )
    names = get_day_names("abbreviated", context="stand-alone", locale=locale)
    expected = [names[(locale.first_week_day + n) % 7] for n in range(7)]
    assert page.locator("[data-weekdays] th").all_inner_texts() == expected
    slot = page.locator("[data-times] input[name=slot]").first.get_attribute("value")
    shown = page.locator("[data-times] .time-option span").first.inner_text()
    instant = datetime.fromisoformat(slot.split("|")[2])
    assert shown == format_time(instant, "short", tzinfo=ZoneInfo(zone), locale=locale)


def check_french_plurals(page: Any) -> None:
    """ui.js tn() in French: 0 and 1 take the singular, 2 the plural; and a day's own
    sentence agrees with its count."""
    said = page.evaluate(
        """async () => { const { tn } = await import('/static/js/ui.js');
        return [0, 1, 2].map((n) => tn('%(n)s piece', '%(n)s pieces', n)); }"""
    )
    assert said == ["0 pièce", "1 pièce", "2 pièces"]
    status = page.locator("[data-status]").inner_text()
    count = page.locator("[data-times] input[name=slot]").count()
    word = "créneau libre" if count < 2 else "créneaux libres"
    assert f"{count}\u00a0{word}" in status or f"{count} {word}" in status, status


def book_through_the_calendar(page: Any, lang: str, zone: str, name: str) -> tuple[str, str]:
    """The second day with free times, its first time, the form, Book: (day, slot value)."""
    day = page.locator(".calendar-grid .day.has-times").nth(1)
    iso = day.get_attribute("data-day")
    assert iso
    day.tap()
    long_day = format_date(date.fromisoformat(iso), "full", locale=lang)
    page.locator("[data-times-title]").filter(has_text=long_day).wait_for()
    assert long_day in page.locator("[data-status]").inner_text()
    option = page.locator("[data-times] .time-option").first
    value = option.locator("input").get_attribute("value")
    assert value
    option.tap()
    page.fill("#f-name", name)
    page.fill("#f-email", "client@example.com")
    assert axe_violations(page) == []
    page.locator("#book-form button[type=submit]").tap()
    page.wait_for_url(re.compile(r"/appointments/[^/?]+\?booked=1$"))
    return iso, value


def check_confirmation(
    page: Any, site: Site, session: Session, lang: str, zone: str, value: str, html_lang: str
) -> None:
    _ = translator(lang).gettext
    assert page.get_attribute("html", "lang") == html_lang
    assert page.locator(".flashes").inner_text() == _(
        "Booked. We have sent the confirmation and a calendar invitation to %(email)s."
    ) % {"email": "client@example.com"}
    starts = datetime.fromisoformat(value.split("|")[2])
    session.expire_all()
    booked = session.exec(select(Appointment)).one()
    session.commit()
    assert booked.starts_at.replace(tzinfo=ZoneInfo("UTC")) == starts
    assert booked.shopper_timezone == zone
    # The e-mail and its invitation in the page's language.
    mail = site.smtp.inbox.wait_for(1)[0]
    assert mail["Content-Language"] == html_lang
    names = {"brand": site.team.brand.name, "associate": "Anna"}
    assert mail["Subject"] == _("Your consultation with %(brand)s is booked") % names
    body = text_of(mail)
    assert body.startswith(_("Hello %(name)s,") % {"name": booked.shopper_name})
    # The date and time as the language writes them ("3 décembre 2026" / "2026年12月3日").
    at = starts.astimezone(ZoneInfo(zone))
    assert format_date(at.date(), "long", locale=lang) in body, body
    assert format_time(at, "short", locale=lang) in body, body
    ics = next(p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar")
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == _("%(brand)s: video consultation with %(associate)s") % names


def test_book_in_french_through_the_switch(site: Site, chromium: Any, session: Session) -> None:
    context = chromium.new_context(**PHONE, locale="en-GB", timezone_id="Europe/Paris")
    page = context.new_page()
    try:
        page.goto(f"{site.url}/b/{site.team.brand.slug}/book")
        page.locator(LOADED).first.wait_for(state="attached")
        assert page.get_attribute("html", "lang") == "en"
        page.locator("#lang-select").select_option("fr")
        with page.expect_navigation():  # POST /lang, then back to this page
            page.locator(".lang-switch button[type=submit]").tap()
        assert page.get_attribute("html", "lang") == "fr"
        page.locator(LOADED).first.wait_for(state="attached")
        assert page.locator("h1").inner_text() == "Réserver un rendez-vous"
        check_calendar(page, "fr", "Europe/Paris")
        check_french_plurals(page)
        submit = page.locator("#book-form button[type=submit]").text_content() or ""
        assert submit.strip() == translator("fr").gettext("Book this time")
        _day, value = book_through_the_calendar(page, "fr", "Europe/Paris", "Camille")
        check_confirmation(page, site, session, "fr", "Europe/Paris", value, "fr")
        # The time on the confirmation page in French words, in the reader's zone.
        shown = page.locator("time[data-local-time]").inner_text()
        starts = datetime.fromisoformat(value.split("|")[2]).astimezone(ZoneInfo("Europe/Paris"))
        assert format_date(starts, "MMMM", locale="fr") in shown, shown
        assert format_date(starts, "EEEE", locale="fr") in shown, shown
        assert starts.strftime("%H:%M") in shown, shown
    finally:
        context.close()


def test_book_in_chinese_from_accept_language(site: Site, chromium: Any, session: Session) -> None:
    context = chromium.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    try:
        page.goto(f"{site.url}/b/{site.team.brand.slug}/book")
        page.locator(LOADED).first.wait_for(state="attached")
        assert page.get_attribute("html", "lang") == "zh-Hans"
        assert page.locator("#lang-select").input_value() == "zh_Hans"
        assert page.locator("h1").inner_text() == translator("zh_Hans").gettext(
            "Book a consultation"
        )
        check_calendar(page, "zh_Hans", "Asia/Shanghai")
        _day, value = book_through_the_calendar(page, "zh_Hans", "Asia/Shanghai", "王芳")
        check_confirmation(page, site, session, "zh_Hans", "Asia/Shanghai", value, "zh-Hans")
        shown = page.locator("time[data-local-time]").inner_text()
        starts = datetime.fromisoformat(value.split("|")[2]).astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"{starts.month}月{starts.day}日" in shown, shown
        assert format_date(starts, "EEEE", locale="zh_Hans") in shown, shown
    finally:
        context.close()
