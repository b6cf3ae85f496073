"""The console's screens for what had only an API: hours and exceptions, messages left,
the transfer control of a consultation (and whom it lists), cancel with a message on the
associate's day. Flask's test client, signed in as an associate or a brand admin."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.clock import utcnow
from sessions.models import (
    AssociateStatus,
    LiveSession,
    SessionKind,
    SessionStatus,
    Thread,
    ThreadStatus,
)
from sessions.service import messages_left, queue
from tests.booking.conftest import Team, staff
from tests.booking.test_booking import booking_body, first_slot
from tests.conftest import login
from tests.factories import Factory


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login(client, email)
    return client


def consultation(session: Session, team: Team) -> LiveSession:
    live = LiveSession(
        brand_id=team.brand.id,  # type: ignore[arg-type]
        kind=SessionKind.CONSULTATION,
        associate_id=team.anna.id,
        room=f"consult-screens-{team.anna.id}",
        status=SessionStatus.LIVE,
        started_at=utcnow(),
    )
    session.add(live)
    session.commit()
    return live


def test_hours_page_for_the_associate_and_their_admin(
    app: Flask, client: FlaskClient, session: Session, factory: Factory
) -> None:
    team = staff(factory, session)
    bea = factory.associate(team.brand, team.store, name="Bea")
    anna_email, bea_email = factory.user_of(team.anna).email, factory.user_of(bea).email
    admin_email = factory.admin(team.brand).email
    other_admin = factory.admin(factory.brand()).email
    session.commit()

    assert client.get("/console/hours").status_code == 302  # to the sign-in page
    anna = signed_in(app, anna_email)
    page = anna.get("/console/hours")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The store's wall times as the staff locale writes them (English: 8:00 AM).
    assert "My hours" in html and "Monday" in html
    assert "8:00\u202fAM" in html and "8:00\u202fPM" in html
    assert "France Time" in html  # the store's zone, as shoppers book, named for the reader
    assert f'data-associate-id="{team.anna.id}"' in html
    assert 'id="hours-associate"' not in html  # an associate sees only their own
    assert "Loading the exceptions" in html and "Add an exception" in html
    # Another associate's hours are their own affair, and their admin's.
    assert anna.get(f"/console/hours?associate={bea.id}").status_code == 403
    bea_page = signed_in(app, bea_email).get("/console/hours").get_data(as_text=True)
    assert "No weekly hours yet" in bea_page

    admin = signed_in(app, admin_email)
    chosen = admin.get(f"/console/hours?associate={bea.id}").get_data(as_text=True)
    assert "Hours of Bea" in chosen and 'id="hours-associate"' in chosen
    assert f'<option value="{bea.id}" selected>' in chosen and "Anna" in chosen
    assert f"/admin/associates/{bea.id}" in chosen  # where the admin sets weekly hours
    assert "Hours of Anna" in admin.get("/console/hours").get_data(as_text=True)
    assert signed_in(app, other_admin).get(f"/console/hours?associate={bea.id}").status_code in (
        403,
        404,
    )
    # The nav leads there, and to the messages.
    nav = anna.get("/console/figures").get_data(as_text=True)
    assert 'href="/console/hours"' in nav and 'href="/console/messages"' in nav


def test_messages_page(app: Flask, client: FlaskClient, session: Session, factory: Factory) -> None:
    team = staff(factory, session)
    email = factory.user_of(team.anna).email
    assert team.brand.id is not None
    messages_left.do_leave_message(
        session, brand_id=team.brand.id, shopper_id=None, name="Iris", email="i@ex.com", body="?"
    )
    session.commit()
    assert client.get("/console/messages").status_code == 302
    anna = signed_in(app, email)
    page = anna.get("/console/messages")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-brand-id="{team.brand.id}"' in html and "Loading the messages" in html
    assert 'aria-current="page">Messages left' in html
    # What the page reads: the brand's messages, open first.
    rows = anna.get(f"/api/brands/{team.brand.id}/messages").get_json()
    assert [(m["name"], m["answered_at"]) for m in rows] == [("Iris", None)]


def test_whom_a_consultation_may_be_handed_to(
    app: Flask, session: Session, factory: Factory
) -> None:
    team = staff(factory, session)
    now = utcnow()
    lea = factory.associate(team.brand, team.store, name="Léa")
    zoe = factory.associate(team.brand, team.store, name="Zoé")
    zoe.max_parallel_chats = 1
    busy = factory.shopper()
    session.add(  # Zoé holds a chat: her one place is taken
        Thread(
            brand_id=team.brand.id,  # type: ignore[arg-type]
            shopper_id=busy.id,  # type: ignore[arg-type]
            status=ThreadStatus.ASSIGNED,
            associate_id=zoe.id,
        )
    )
    factory.associate(team.brand, team.store, name="Ugo")  # offline
    gone = factory.associate(team.brand, team.store, name="Vic")
    for person in (team.anna, lea, zoe, gone):
        queue.do_set_status(session, person, AssociateStatus.ONLINE, now=now)
    gone.console_seen_at = now - timedelta(hours=1)  # online, but the console went away
    session.add(gone)
    session.commit()
    live = consultation(session, team)
    anna_email = factory.user_of(team.anna).email
    lea_email = factory.user_of(lea).email
    shopper_page = app.test_client()

    anna = signed_in(app, anna_email)
    room = anna.get(f"/console/consult/{live.id}").get_data(as_text=True)
    assert "Hand to a colleague" in room and "data-transfer" in room
    people = anna.get(f"/api/consultations/{live.id}/colleagues").get_json()
    store = team.store.name
    assert people == [  # the same shape as a thread's transfer options
        {"id": lea.id, "name": "Léa", "store": store, "languages": ["en"], "load": 0, "cap": 3}
        | {"has_room": True},
        {"id": zoe.id, "name": "Zoé", "store": store, "languages": ["en"], "load": 1, "cap": 1}
        | {"has_room": False},
    ]
    assert (
        signed_in(app, lea_email).get(f"/api/consultations/{live.id}/colleagues").status_code == 403
    )
    assert shopper_page.get(f"/api/consultations/{live.id}/colleagues").status_code == 401

    url = f"/api/consultations/{live.id}/transfer"
    full = anna.post(url, json={"associate_id": zoe.id})
    assert full.status_code == 409 and "no free place" in full.get_json()["message"]
    away = anna.post(url, json={"associate_id": gone.id})
    assert away.status_code == 409 and "away" in away.get_json()["message"]
    done = anna.post(url, json={"associate_id": lea.id})
    assert done.status_code == 200 and done.get_json()["associate_name"] == "Léa"
    # It is Léa's now: Anna's room is closed to her, Léa's list shows Anna.
    assert anna.get(f"/console/consult/{live.id}").status_code == 403
    lea_client = signed_in(app, lea_email)
    assert lea_client.get(f"/console/consult/{live.id}").status_code == 200
    names = [
        c["name"] for c in lea_client.get(f"/api/consultations/{live.id}/colleagues").get_json()
    ]
    assert names == ["Anna", "Zoé"]


def test_the_day_cancels_with_a_message(
    app: Flask, client: FlaskClient, session: Session, factory: Factory
) -> None:
    team = staff(factory, session)
    slot = first_slot(client, "", team)
    booked = client.post(f"/api/brands/{team.brand.id}/appointments", json=booking_body(slot))
    assert booked.status_code == 201
    email = factory.user_of(team.anna).email
    session.commit()
    anna = signed_in(app, email)
    page = anna.get("/console/today").get_data(as_text=True)
    assert "write the shopper a message" in page and 'href="/console/messages"' in page
    day = anna.get(f"/api/associates/{team.anna.id}/today").get_json()
    shown = [a for a in day["appointments"] if a["id"] == booked.get_json()["id"]]
    if shown:  # within the day's 24 hours: the page names the shopper
        assert shown[0]["shopper_name"] == "Camille"
    url = f"/api/console/appointments/{booked.get_json()['id']}/cancel"
    empty = anna.post(url, json={"message": "  "})
    assert empty.status_code == 422
    done = anna.post(url, json={"message": "I am unwell today, sorry."})
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    assert done.get_json()["shopper_name"] == "Camille"
