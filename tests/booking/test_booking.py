"""Booking through the API: slots, one winner per slot, signed links, cancel and reschedule."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.errors import Conflict
from sessions.models import Appointment, AppointmentSlot, LiveSession, Reminder
from sessions.service import appointments
from tests.booking.conftest import Team, staff
from tests.conftest import csrf_token_from, login
from tests.factories import Factory
from tests.servers import WebServer


def tomorrow() -> str:
    return (utcnow() + timedelta(days=1)).replace(hour=0, minute=0, second=0).isoformat()


def first_slot(client: Any, base: str, team: Team) -> dict[str, Any]:
    response = (
        client.get(
            f"{base}/api/brands/{team.brand.id}/availability",
            params={"start": tomorrow(), "days": 1},
        )
        if base
        else client.get(
            f"/api/brands/{team.brand.id}/availability",
            query_string={"start": tomorrow(), "days": 1},
        )
    )
    assert response.status_code == 200
    slots = response.json() if base else response.get_json()
    assert slots, "expected free slots tomorrow"
    return dict(slots[0])


def booking_body(slot: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "associate_id": slot["associate_id"],
        "store_id": slot["store_id"],
        "starts_at": slot["starts_at"],
        "name": "Camille",
        "email": "camille@example.com",
        "timezone": "America/New_York",
        **extra,
    }


def test_book_then_the_slot_is_gone(client: FlaskClient, team: Team) -> None:
    slot = first_slot(client, "", team)
    response = client.post(f"/api/brands/{team.brand.id}/appointments", json=booking_body(slot))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "booked" and body["live_session_id"]
    assert "/appointments/" in body["manage_url"] and body["join_url"].endswith("/join")
    again = client.post(f"/api/brands/{team.brand.id}/appointments", json=booking_body(slot))
    assert again.status_code == 409
    assert again.get_json()["error"] in {"slot_unavailable", "slot_taken"}
    assert slot["starts_at"] not in [s["starts_at"] for s in _slots(client, team)]


def _slots(client: FlaskClient, team: Team) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/brands/{team.brand.id}/availability", query_string={"start": tomorrow()}
    )
    return list(response.get_json())


def test_bad_input_gets_clear_4xx(client: FlaskClient, team: Team) -> None:
    slot = first_slot(client, "", team)
    url = f"/api/brands/{team.brand.id}/appointments"
    assert client.post(url, json=booking_body(slot, email="nope")).status_code == 422
    naive = booking_body(slot, starts_at=slot["starts_at"][:19])
    assert client.post(url, json=naive).status_code == 422
    odd = booking_body(
        slot,
        starts_at=(datetime.fromisoformat(slot["starts_at"]) + timedelta(minutes=7)).isoformat(),
    )
    response = client.post(url, json=odd)
    assert response.status_code == 409 and "no longer available" in response.get_json()["message"]
    assert client.post(url, json=booking_body(slot, timezone="Mars/Base")).status_code == 422
    bad_range = client.get(f"/api/brands/{team.brand.id}/availability", query_string={"days": 99})
    assert bad_range.status_code == 422


def test_the_database_alone_refuses_a_double_booking(
    session: Session, team: Team, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two requests that both passed the availability check: only the unique cells decide.
    monkeypatch.setattr(appointments, "_check_slot_offered", lambda *a, **k: None)
    start = (utcnow() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    kwargs: dict[str, Any] = {
        "brand_id": team.brand.id,
        "associate_id": team.anna.id,
        "store_id": team.store.id,
        "name": "A",
        "email": "a@example.com",
    }
    appointments.do_book(session, starts_at=start, shopper_id=factory.shopper().id, **kwargs)
    with pytest.raises(Conflict):
        # Overlaps the first one's buffer only: still refused.
        appointments.do_book(
            session,
            starts_at=start + timedelta(minutes=35),
            shopper_id=factory.shopper().id,
            **kwargs,
        )
    assert len(session.exec(select(Appointment)).all()) == 1


@pytest.mark.slow
def test_concurrent_booking_of_one_slot_has_exactly_one_winner(
    database_url: str, tmp_path: Path, factory: Factory, session: Session
) -> None:
    team = staff(factory, session)
    with WebServer(database_url, tmp_path, async_mode="gevent", create_schema=False) as server:
        slot = first_slot(requests, server.url, team)
        contenders = 8
        barrier = threading.Barrier(contenders)
        codes: list[int] = []

        def take() -> None:
            with requests.Session() as browser:
                # Each its own guest, with the CSRF token its page gave it.
                page = browser.get(f"{server.url}/b/{team.brand.slug}/book")
                token = csrf_token_from(page.text)
                barrier.wait()
                response = browser.post(
                    f"{server.url}/api/brands/{team.brand.id}/appointments",
                    json=booking_body(slot),
                    headers={"X-CSRFToken": token},
                    timeout=30,
                )
                codes.append(response.status_code)

        threads = [threading.Thread(target=take) for _ in range(contenders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(codes) == [201] + [409] * (contenders - 1)
    session.expire_all()
    assert len(session.exec(select(Appointment)).all()) == 1
    assert len(session.exec(select(LiveSession)).all()) == 1


def test_signed_link_manages_without_account_and_a_tampered_one_is_refused(
    client: FlaskClient, team: Team, app: Any
) -> None:
    slot = first_slot(client, "", team)
    booked = client.post(
        f"/api/brands/{team.brand.id}/appointments", json=booking_body(slot)
    ).get_json()
    token = booked["manage_url"].rsplit("/", 1)[1]
    stranger = app.test_client()  # no cookie: the link alone is the key
    assert stranger.get(f"/api/appointments/{token}").status_code == 200
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "garbage", token + "x"):
        response = stranger.get(f"/api/appointments/{bad}")
        assert response.status_code == 403, bad
        assert "not valid" in response.get_json()["message"]
        assert stranger.post(f"/api/appointments/{bad}/cancel", json={}).status_code == 403
    page = stranger.get(f"/appointments/{tampered}")
    assert page.status_code == 403 and b"not valid" in page.data

    later = [s for s in _slots(client, team) if s["starts_at"] > slot["starts_at"]][3]
    moved = stranger.post(
        f"/api/appointments/{token}/reschedule", json={"starts_at": later["starts_at"]}
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["starts_at"].startswith(later["starts_at"][:16])
    assert slot["starts_at"] in [s["starts_at"] for s in _slots(client, team)]  # freed
    cancelled = stranger.post(f"/api/appointments/{token}/cancel", json={"reason": "travel"})
    assert cancelled.get_json()["status"] == "cancelled"
    assert stranger.post(f"/api/appointments/{token}/cancel", json={}).status_code == 409
    assert later["starts_at"] in [s["starts_at"] for s in _slots(client, team)]


def test_associate_cancels_with_a_message(
    client: FlaskClient, team: Team, factory: Factory, session: Session, app: Any
) -> None:
    slot = first_slot(client, "", team)
    booked = client.post(
        f"/api/brands/{team.brand.id}/appointments", json=booking_body(slot)
    ).get_json()
    url = f"/api/console/appointments/{booked['id']}/cancel"
    assert client.post(url, json={"message": "x"}).status_code == 401  # a shopper may not
    other = factory.associate(team.brand, team.store)
    emails = factory.user_of(other).email, factory.user_of(team.anna).email
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    colleague = app.test_client()
    login(colleague, emails[0])
    assert colleague.post(url, json={"message": "x"}).status_code == 403
    associate = app.test_client()
    login(associate, emails[1])
    assert associate.post(url, json={"message": ""}).status_code == 422
    done = associate.post(url, json={"message": "I am unwell, sorry."})
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    kinds = {r.kind for r in session.exec(select(Reminder)).all()}
    assert "cancel-associat" in kinds
    assert session.exec(select(AppointmentSlot)).all() == []


def test_booking_page_form_flow(client: FlaskClient, team: Team) -> None:
    page = client.get(f"/b/{team.brand.slug}/book")
    assert page.status_code == 200 and b"Book a consultation" in page.data
    slot = first_slot(client, "", team)
    value = f"{slot['associate_id']}|{slot['store_id']}|{slot['starts_at']}"
    bad = client.post(f"/b/{team.brand.slug}/book", data={"slot": "x", "name": "C"})
    assert bad.status_code == 422 and b"Choose a time" in bad.data
    response = client.post(
        f"/b/{team.brand.slug}/book",
        data={"slot": value, "name": "Camille", "email": "c@example.com", "timezone": "Asia/Tokyo"},
    )
    assert response.status_code == 302
    manage = client.get(response.headers["Location"])
    assert manage.status_code == 200 and b"Anna" in manage.data
    assert b"Asia/Tokyo" in manage.data


def test_a_day_off_removes_that_days_slots(
    client: FlaskClient, team: Team, factory: Factory, session: Session, app: Any
) -> None:
    day = (utcnow() + timedelta(days=1)).date()
    email = factory.user_of(team.anna).email
    session.commit()
    associate = app.test_client()
    login(associate, email)
    url = f"/api/associates/{team.anna.id}/exceptions"
    assert client.post(url, json={"day": day.isoformat()}).status_code == 401
    half = associate.post(url, json={"day": day.isoformat(), "start_time": "10:00"})
    assert half.status_code == 422
    created = associate.post(url, json={"day": day.isoformat(), "reason": "Holiday"})
    assert created.status_code == 201
    local_days = {
        datetime.fromisoformat(s["starts_at"]).astimezone(ZoneInfo("Europe/Paris")).date()
        for s in _slots(client, team)
    }
    assert day not in local_days and day + timedelta(days=1) in local_days
    gone = associate.delete(f"{url}/{created.get_json()['id']}")
    assert gone.status_code == 204
