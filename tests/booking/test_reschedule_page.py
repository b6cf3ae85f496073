"""Moving a booking from its manage page (booking/manage.html) without JavaScript: the
booking page's calendar markup over the associate's and store's free times, the month's
days as links, the day's times as radio buttons, posted; a bad time is a 4xx on the page.
The same page in Chromium, through the calendar: test_booking_calendar_browser.py."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.clock import as_utc
from sessions.models import Appointment
from tests.booking.conftest import Team
from tests.booking.test_booking import booking_body, first_slot

TIME = re.compile(r'<input type="radio" name="starts_at" value="([^"]+)" required>')
DAY_LINK = re.compile(r'<li><a href="\?([^"]+)"')


def booked_token(client: FlaskClient, team: Team) -> tuple[str, int]:
    slot = first_slot(client, "", team)
    made = client.post(
        f"/api/brands/{team.brand.id}/appointments",
        json=booking_body(slot, timezone="Asia/Shanghai"),
    ).get_json()
    return made["manage_url"].rsplit("/", 1)[1], made["id"]


def test_the_move_is_the_booking_calendar_without_javascript(
    client: FlaskClient, team: Team, session: Session
) -> None:
    token, appointment_id = booked_token(client, team)
    page = client.get(f"/appointments/{token}").get_data(as_text=True)
    # The calendar's markup, fixed to this associate and store, in the shopper's zone.
    assert 'id="move"' in page and 'data-slot-name="starts_at"' in page
    assert f"associate_id={team.anna.id}" in page and f"store_id={team.store.id}" in page
    assert 'data-zone="Asia/Shanghai"' in page
    assert "Times in Asia/Shanghai." in page
    # Days as links on this page; the second one shows its own times.
    links = [unescape(link) for link in DAY_LINK.findall(page)]
    assert len(links) >= 2
    second = parse_qs(links[1])
    assert set(second) == {"month", "day", "tz"}
    other = client.get(f"/appointments/{token}?{links[1]}").get_data(as_text=True)
    times = TIME.findall(other)
    assert times
    assert all(
        datetime.fromisoformat(t).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
        == second["day"][0]
        for t in times
    )
    # Post one: the booking moves, the page says so.
    moved = client.post(f"/appointments/{token}/reschedule", data={"starts_at": times[1]})
    assert moved.status_code == 302
    assert parse_qs(urlsplit(moved.headers["Location"]).query) == {"rescheduled": ["1"]}
    session.expire_all()
    appointment = session.get(Appointment, appointment_id)
    assert appointment is not None
    assert as_utc(appointment.starts_at) == datetime.fromisoformat(times[1])
    session.commit()
    done = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert "Done: your consultation has moved." in done


def test_a_bad_time_is_refused_on_the_page(client: FlaskClient, team: Team) -> None:
    token, _ = booked_token(client, team)
    for bad in ("", "tomorrow", "3026-01-01T10:00:00+00:00"):  # 3026: off the calendar
        response = client.post(f"/appointments/{token}/reschedule", data={"starts_at": bad})
        assert response.status_code == 422, bad
        html = response.get_data(as_text=True)
        assert 'role="alert">Choose a new time from the list.' in html
        assert 'id="move"' in html  # the calendar is still there to choose again
    taken = client.post(
        f"/appointments/{token}/reschedule", data={"starts_at": "2026-01-01T03:00:00+00:00"}
    )
    assert 400 <= taken.status_code < 500
    assert 'class="form-error" role="alert"' in taken.get_data(as_text=True)


def test_in_french_the_move_speaks_french(client: FlaskClient, team: Team) -> None:
    token, _ = booked_token(client, team)
    page = client.get(f"/appointments/{token}?lang=fr").get_data(as_text=True)
    assert "Choisissez un jour" in page
    assert re.search(r"créneaux? libres?</a>", page)
