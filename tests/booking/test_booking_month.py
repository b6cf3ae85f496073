"""The booking calendar's month endpoint and the page without JavaScript: free times by
the shopper's local day, the filters, the next free day, and bad months or zones refused
with a 400 and a sentence."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.clock import utcnow
from sessions.service.booking_month import add_months
from sessions.service.hours import do_add_exception
from tests.booking.conftest import Team, staff
from tests.factories import Factory


def month_of(client: FlaskClient, team: Team, **params: Any) -> Any:
    return client.get(f"/api/brands/{team.brand.id}/availability/month", query_string=params)


def this_month(zone: str) -> date:
    return utcnow().astimezone(ZoneInfo(zone)).date().replace(day=1)


def test_a_month_groups_free_times_by_the_shoppers_local_day(
    client: FlaskClient, team: Team
) -> None:
    next_month = add_months(this_month("Asia/Shanghai"), 1)
    response = month_of(client, team, month=next_month.strftime("%Y-%m"), tz="Asia/Shanghai")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["month"] == next_month.strftime("%Y-%m") and body["zone"] == "Asia/Shanghai"
    assert body["previous_month"] is not None and body["next_month"] is not None
    zone = ZoneInfo("Asia/Shanghai")
    days = body["days"]
    assert len(days) >= 28  # Anna works every day, 08:00-20:00 in Paris
    for day in days:
        for slot in day["slots"]:
            starts = date.fromisoformat(day["date"])
            local = datetime.fromisoformat(slot["starts_at"]).astimezone(zone)
            assert local.date() == starts  # the day is the shopper's, not the store's
    # Paris 08:00-20:00 is Shanghai 15:00-03:00: some slots fall on the next local day.
    first = days[0]["slots"]
    assert any(
        datetime.fromisoformat(s["starts_at"]).astimezone(zone).hour < 4
        for d in days
        for s in d["slots"]
    )
    assert first[0]["associate_name"] == "Anna"
    anna = body["associates"][0]
    assert anna["name"] == "Anna" and anna["languages"] == ["en", "fr"]
    assert body["next_free_day"] is None


def test_filters_narrow_the_month(client: FlaskClient, team: Team) -> None:
    assert month_of(client, team, language="fr").get_json()["associates"][0]["name"] == "Anna"
    nobody = month_of(client, team, language="ja").get_json()
    assert nobody["days"] == [] and nobody["associates"] == []
    assert nobody["next_free_day"] is None


def test_an_empty_month_names_the_next_free_day(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    # No weekly hours; one date with replacement hours, two months ahead.
    team = staff(factory, session, hours=[])
    assert team.store.id is not None
    later = add_months(this_month("Europe/Paris"), 2) + timedelta(days=3)
    do_add_exception(
        session, team.anna, day=later, start=time(10), end=time(12), store_id=team.store.id
    )
    session.commit()
    body = month_of(client, team, tz="Europe/Paris").get_json()
    assert body["days"] == []
    assert body["next_free_day"] == later.isoformat()
    page = client.get(f"/b/{team.brand.slug}/book", query_string={"tz": "Europe/Paris"})
    assert b"The next free day is" in page.data


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"month": "2026-13"}, "is not a month"),
        ({"month": "december"}, "is not a month"),
        ({"month": "1999-01"}, "this month or one of the next"),
        ({"month": add_months(date.today().replace(day=1), 14).strftime("%Y-%m")}, "next 12"),
        ({"tz": "Mars/Olympus"}, "is not a time zone"),
        ({"tz": "../../etc/passwd"}, "is not a time zone"),
    ],
)
def test_a_bad_month_or_zone_is_a_400_with_a_message(
    client: FlaskClient, team: Team, params: dict[str, str], says: str
) -> None:
    response = month_of(client, team, **params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_calendar_query" and says in body["message"]
    page = client.get(f"/b/{team.brand.slug}/book", query_string=params)
    assert page.status_code == 400 and says.encode() in page.data.replace(b"&#39;", b"'")


def test_the_page_without_javascript_lists_days_and_the_days_times(
    client: FlaskClient, team: Team
) -> None:
    month = add_months(this_month("America/New_York"), 1)
    day = month + timedelta(days=9)
    page = client.get(
        f"/b/{team.brand.slug}/book",
        query_string={
            "month": month.strftime("%Y-%m"),
            "day": day.isoformat(),
            "tz": "America/New_York",
        },
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'aria-current="date"' in html and f"day={day.isoformat()}" in html
    assert html.count('name="slot"') >= 10
    assert "Times in America/New York." in html
    # In French, from Babel: the month's name and 24-hour times.
    french = client.get(
        f"/b/{team.brand.slug}/book",
        query_string={"month": month.strftime("%Y-%m"), "tz": "Europe/Paris", "lang": "fr"},
    ).get_data(as_text=True)
    assert format_skeleton("yMMMM", month, locale="fr") in french
    assert ">08:00<" in french or ">09:00<" in french
