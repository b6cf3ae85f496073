"""The booking page in real Chromium: a month calendar, the day's times in the shopper's
zone, filters that fetch without a reload, the keyboard, axe; on a phone (touch) and a
desktop; in French and Chinese with the locale's names and times; and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_skeleton, format_time, get_day_names
from playwright.sync_api import expect
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.models import Appointment
from sessions.service import appointments
from sessions.service import availability as av
from sessions.service.hours import at_store, do_set_weekly_hours
from tests.booking.conftest import Team, staff
from tests.browser.conftest import axe_violations, take_screenshots
from tests.factories import Factory
from tests.servers import ROOT, WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
IMAGES = ROOT / "docs" / "img"
SECRET = "test-secret-key"  # tests/servers.py gives the web node this one
# Drawn by book.js from the month endpoint (the page's own list is there before it).
LOADED = "#booking[data-loaded] [data-times] input[name=slot]"


@dataclass
class Site:
    url: str
    team: Team


@pytest.fixture
def site(database_url: str, tmp_path: Path, factory: Factory, session: Session) -> Iterator[Site]:
    team = staff(factory, session, specialities="Leather goods, bridal")
    li = factory.associate(team.brand, team.store, name="Li Wei", languages="zh,en")
    li.specialities = "Watches"
    li.min_notice_minutes = 0
    session.add(li)
    session.commit()
    assert team.store.id is not None
    weekdays = [av.Span(d, time(10), time(13)) for d in range(5)]
    do_set_weekly_hours(session, li, at_store(team.store.id, weekdays))
    factory.associate(team.brand, team.store, name="Noor", languages="ar")  # no hours at all
    session.commit()  # end the read: on SQLite it would hold the write lock
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        yield Site(server.url, team)


def open_booking(context: Any, site: Site, query: str = "") -> Any:
    page = context.new_page()
    page.goto(f"{site.url}/b/{site.team.brand.slug}/book{query}")
    page.locator(LOADED).first.wait_for(state="attached")
    return page


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_pick_a_day_and_a_time_and_book(
    device: str, site: Site, chromium: Any, session: Session
) -> None:
    options = PHONE if device == "phone" else DESKTOP
    context = chromium.new_context(**options, timezone_id="America/New_York", locale="en-US")
    page = open_booking(context, site)
    # The zone is the browser's, said in words; the brand's header is there.
    assert page.locator("#f-tz").input_value() == "America/New_York"
    assert "America/New York" in page.locator("[data-zone-note]").inner_text()
    assert (
        page.locator(".site-header .brand-mark").text_content() or ""
    ).strip() == site.team.brand.name
    status = page.locator("[data-status]")
    assert re.search(r"\d+ free times, in America/New York", status.inner_text())
    assert axe_violations(page) == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= options["viewport"]["width"]

    # The second day with free times: a tap (phone) or a click.
    day = page.locator(".calendar-grid .day.has-times").nth(1)
    iso = day.get_attribute("data-day")
    assert iso
    day.tap() if device == "phone" else day.click()
    long_day = page.evaluate(
        "(iso) => new Intl.DateTimeFormat('en', {dateStyle: 'full', timeZone: 'UTC'})"
        ".format(new Date(iso + 'T12:00:00Z'))",
        iso,
    )
    page.locator("[data-times-title]").filter(has_text=long_day).wait_for()
    assert long_day in status.inner_text()
    assert page.locator(f"td[aria-selected=true] [data-day='{iso}']").count() == 1

    # A time: the associate of it appears; then the shopper's details and book.
    first_time = page.locator("[data-times] .time-option").first
    value = first_time.locator("input").get_attribute("value")
    assert value
    first_time.tap() if device == "phone" else first_time.click()
    page.locator("[data-chosen]").filter(has_text="With ").wait_for()
    box = first_time.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44
    page.fill("#f-name", "Camille")
    page.fill("#f-email", "camille@example.com")
    submit = page.get_by_role("button", name="Book this time")
    button_box = submit.bounding_box()
    assert button_box and button_box["height"] >= 44
    if device == "phone":  # in thumb reach: at the bottom of the screen while the form scrolls
        page.evaluate("window.scrollTo(0, 0)")
        assert submit.bounding_box()["y"] > 844 * 0.8  # type: ignore[index]
    if take_screenshots():
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(IMAGES / f"booking-{device}.png"), full_page=device == "desktop")
    submit.click()
    page.wait_for_url(re.compile(r"/appointments/[^/]+\?booked=1$"))
    session.expire_all()
    booked = session.exec(select(Appointment)).all()
    session.commit()
    assert len(booked) == 1
    assert datetime.fromisoformat(value.split("|")[2]) == booked[0].starts_at.replace(
        tzinfo=ZoneInfo("UTC")
    )
    local = datetime.fromisoformat(value.split("|")[2]).astimezone(ZoneInfo("America/New_York"))
    assert local.date() == date.fromisoformat(iso)
    assert booked[0].shopper_timezone == "America/New_York"
    context.close()


def test_keyboard_filters_and_states(site: Site, chromium: Any) -> None:
    context = chromium.new_context(**DESKTOP, timezone_id="Europe/Paris")
    page = open_booking(context, site)
    page.evaluate("window.__sameDocument = true")
    # Arrow keys move between days of the grid; Enter chooses one.
    focused = page.locator(".calendar-grid button[tabindex='0']")
    start = focused.get_attribute("data-day")
    assert start
    focused.focus()
    page.keyboard.press("ArrowRight")
    after = page.evaluate("document.activeElement.dataset.day")
    assert after > start
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.dataset.day") == start
    page.keyboard.press("ArrowDown")
    week_later = page.evaluate("document.activeElement.dataset.day")
    assert (date.fromisoformat(week_later) - date.fromisoformat(start)).days == 7
    page.keyboard.press("Enter")
    page.locator(f"td[aria-selected=true] [data-day='{week_later}']").wait_for()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    # A filter fetches the month again, without a reload: only Li Wei speaks Chinese.
    with page.expect_response(re.compile(r"/availability/month\?.*language=zh")):
        page.select_option("#f-language", "zh")
    # The response is in; the list is drawn from it just after: waited for, not raced.
    team = page.locator("[data-team]")
    expect(team).not_to_contain_text("Anna", timeout=30_000)
    expect(team).to_contain_text("Li Wei", timeout=30_000)
    assert "Chinese" in team.inner_text()
    assert page.evaluate("window.__sameDocument") is True

    # Nobody free: said in words.
    page.select_option("#f-language", "")
    noor = page.locator("#f-associate option", has_text="Noor").get_attribute("value")
    page.select_option("#f-associate", noor)
    page.locator("[data-status]").filter(
        has_text="No free times in the next three months"
    ).wait_for()
    assert page.locator("[data-times] input").count() == 0

    # A zone the server does not know: its message, and a way to try again.
    page.select_option("#f-associate", "")
    page.evaluate(
        """() => { const s = document.querySelector('#f-tz');
        s.add(new Option('Mars', 'Mars/Olympus')); s.value = 'Mars/Olympus';
        s.dispatchEvent(new Event('change')); }"""
    )
    page.locator("[data-status]").filter(has_text="We could not load the free times").wait_for()
    assert "is not a time zone we know" in page.locator("[data-status]").inner_text()
    assert page.get_by_role("button", name="Try again").is_visible()
    context.close()


@pytest.mark.parametrize(("lang", "html_lang"), [("fr", "fr"), ("zh_Hans", "zh-Hans")])
def test_the_calendar_speaks_the_pages_language(
    lang: str, html_lang: str, site: Site, chromium: Any
) -> None:
    context = chromium.new_context(**PHONE, timezone_id="Europe/Paris")
    page = open_booking(context, site, f"?lang={lang}")
    assert page.evaluate("document.documentElement.lang") == html_lang
    locale = Locale.parse(lang)
    month = page.locator("[data-grid] button[data-day]").first.get_attribute("data-day")
    assert month
    first = date.fromisoformat(month).replace(day=1)
    assert page.locator("[data-month-title]").inner_text() == format_skeleton(
        "yMMMM", first, locale=locale
    )
    names = get_day_names("abbreviated", context="stand-alone", locale=locale)
    expected = [names[(locale.first_week_day + n) % 7] for n in range(7)]
    assert page.locator("[data-weekdays] th").all_inner_texts() == expected
    slot = page.locator("[data-times] input[name=slot]").first.get_attribute("value")
    assert slot
    shown = page.locator("[data-times] .time-option span").first.inner_text()
    instant = datetime.fromisoformat(slot.split("|")[2])
    assert shown == format_time(instant, "short", tzinfo=ZoneInfo("Europe/Paris"), locale=locale)
    assert page.get_by_role("button", name=re.compile(".")).count() > 0
    assert axe_violations(page) == []
    context.close()


def test_without_javascript_a_day_list_and_a_times_form(
    site: Site, chromium: Any, session: Session
) -> None:
    context = chromium.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.url}/b/{site.team.brand.slug}/book")
    assert page.locator("[data-calendar]").is_hidden()
    days = page.locator(".day-list a")
    assert days.count() >= 2
    days.nth(1).click()
    page.wait_for_load_state()
    assert page.locator(".day-list a[aria-current=date]").count() == 1
    page.locator("[data-times] .time-option").first.click()
    page.fill("#f-name", "Iris")
    page.fill("#f-email", "iris@example.com")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url(re.compile(r"/appointments/[^/]+\?booked=1$"))
    session.expire_all()
    assert len(session.exec(select(Appointment)).all()) == 1
    session.commit()
    context.close()


def test_move_a_booking_through_the_calendar(
    site: Site, chromium: Any, session: Session, factory: Factory
) -> None:
    """The manage page's move is the booking page's calendar (booking-calendar.js): keyboard
    to another day, a time, move; axe clean; the booking has the new time."""
    team = site.team
    assert team.brand.id and team.anna.id and team.store.id
    now = utcnow()
    first = appointments.find_slots(
        session, team.brand.id, start=now, end=now + timedelta(days=3), associate_id=team.anna.id
    )[0]
    made = appointments.do_book(
        session, brand_id=team.brand.id, associate_id=team.anna.id, store_id=team.store.id,
        starts_at=first.starts_at, shopper_id=factory.shopper().id, name="Camille",
        email="camille@example.com", timezone="Europe/Paris",
    )  # fmt: skip
    session.commit()
    token = appointments.manage_token(SECRET, made)
    context = chromium.new_context(**PHONE, timezone_id="America/New_York")
    page = context.new_page()
    page.goto(f"{site.url}/appointments/{token}")
    page.locator("#move[data-loaded] [data-times] input[name=starts_at]").first.wait_for(
        state="attached"
    )
    assert page.locator("#move [data-fallback]").is_hidden()
    # The booking's own zone, not the browser's: the shopper booked in Paris.
    assert "Europe/Paris" in page.locator("#move [data-zone-note]").inner_text()
    assert axe_violations(page) == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["viewport"]["width"]

    # The keyboard: the day in the tab order, the next day, Enter; then a time, Space.
    focused = page.locator("#move .calendar-grid button[tabindex='0']")
    start = focused.get_attribute("data-day")
    assert start
    focused.focus()
    page.keyboard.press("ArrowRight")
    day = page.evaluate("document.activeElement.dataset.day")
    assert day > start
    page.keyboard.press("Enter")
    page.locator(f"#move td[aria-selected=true] [data-day='{day}']").wait_for()
    status = page.locator("#move [data-status]").inner_text()
    assert re.search(r"\d+ free times?, in Europe/Paris", status)
    option = page.locator("#move [data-times] input[name=starts_at]").nth(1)
    value = option.get_attribute("value")
    assert value
    option.focus()
    page.keyboard.press("Space")
    assert option.is_checked()
    page.locator("#move-form").get_by_role("button", name="Move my consultation").click()
    page.wait_for_url(re.compile(r"/appointments/[^/?]+\?rescheduled=1$"))
    assert "Done: your consultation has moved." in page.locator(".flashes").inner_text()
    session.expire_all()
    moved = session.get(Appointment, made.id)
    session.commit()
    assert moved is not None
    assert moved.starts_at.replace(tzinfo=ZoneInfo("UTC")) == datetime.fromisoformat(value)
    local = datetime.fromisoformat(value).astimezone(ZoneInfo("Europe/Paris"))
    assert local.date() == date.fromisoformat(day)
    context.close()
