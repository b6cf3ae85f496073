"""Talk now: routing, offers that time out, the cap, transfer, and the offline answer."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.errors import Conflict
from sessions.models import AssociateProfile, AssociateStatus, QueueRequest, QueueStatus
from sessions.service import availability as av
from sessions.service import queue, rooms
from sessions.service.hours import do_set_weekly_hours
from tests.booking.conftest import Team, staff
from tests.conftest import login
from tests.factories import Factory

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris


def online(session: Session, *people: AssociateProfile, at: datetime = NOW) -> None:
    for person in people:
        queue.do_set_status(session, person, AssociateStatus.ONLINE, now=at)


def ask(session: Session, team: Team, factory: Factory, **kwargs: object) -> QueueRequest:
    result = queue.do_enqueue(
        session,
        brand=team.brand,
        shopper_id=factory.shopper().id,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )
    assert isinstance(result, QueueRequest)
    return result


def test_routes_by_language_then_least_busy(session: Session, team: Team, factory: Factory) -> None:
    ben = factory.associate(team.brand, team.store, name="Ben", languages="it")
    cleo = factory.associate(team.brand, team.store, name="Cleo", languages="en")
    online(session, team.anna, at=NOW - timedelta(minutes=5))
    online(session, cleo, at=NOW - timedelta(minutes=1))
    online(session, ben)
    italian = ask(session, team, factory, language="it")
    assert italian.status is QueueStatus.OFFERED and italian.associate_id == ben.id
    first = ask(session, team, factory, language="en")
    second = ask(session, team, factory, language="en")
    # Anna and Cleo both speak English and are equally idle: Anna has waited longer, so the
    # first request is hers; the second goes to the less busy one, Cleo.
    assert (first.associate_id, second.associate_id) == (team.anna.id, cleo.id)
    japanese = ask(session, team, factory, language="ja")  # nobody speaks it: anyone free
    assert japanese.status is QueueStatus.OFFERED


def test_unanswered_offer_passes_to_the_next_then_comes_back(
    session: Session, team: Team, factory: Factory
) -> None:
    ben = factory.associate(team.brand, team.store, name="Ben", languages="en")
    online(session, team.anna, at=NOW - timedelta(minutes=5))
    online(session, ben)
    request = ask(session, team, factory)
    assert request.associate_id == team.anna.id
    # Within the time nothing moves; after it, Ben gets it.
    queue.do_route(session, team.brand.id, now=NOW + timedelta(seconds=29), accept_seconds=30)  # type: ignore[arg-type]
    session.refresh(request)
    assert request.associate_id == team.anna.id
    queue.do_route(session, team.brand.id, now=NOW + timedelta(seconds=31), accept_seconds=30)  # type: ignore[arg-type]
    session.refresh(request)
    assert request.status is QueueStatus.OFFERED and request.associate_id == ben.id
    with pytest.raises(Conflict):
        queue.do_accept(session, request, team.anna.id, now=NOW + timedelta(seconds=32))  # type: ignore[arg-type]
    # Ben passes too: everyone has let it pass once, so it goes round again.
    queue.do_decline(session, request, ben.id, now=NOW + timedelta(seconds=40))  # type: ignore[arg-type]
    session.refresh(request)
    assert request.associate_id == team.anna.id
    live = queue.do_accept(session, request, team.anna.id, now=NOW + timedelta(seconds=45))  # type: ignore[arg-type]
    assert live.status.value == "live" and live.shopper_id == request.shopper_id
    assert request.status is QueueStatus.ACCEPTED


def test_cap_on_parallel_chats_position_and_wait(
    session: Session, team: Team, factory: Factory
) -> None:
    team.anna.max_parallel_chats = 1
    session.add(team.anna)
    session.commit()
    online(session, team.anna)
    first = ask(session, team, factory)
    queue.do_accept(session, first, team.anna.id, now=NOW)  # type: ignore[arg-type]
    second = ask(session, team, factory)
    third = ask(session, team, factory)
    assert second.status is QueueStatus.WAITING  # Anna is at her cap
    assert queue.position_of(session, second).position == 1
    place = queue.position_of(session, third)
    assert place.position == 2 and place.estimated_wait_seconds > 0
    live = queue.live_session_of(session, first)
    assert live is not None
    rooms.do_end_consultation(session, live, now=NOW + timedelta(minutes=5))
    session.refresh(second)
    assert second.status is QueueStatus.OFFERED and second.associate_id == team.anna.id


def test_transfer_to_a_colleague(session: Session, team: Team, factory: Factory) -> None:
    ben = factory.associate(team.brand, team.store, name="Ben")
    online(session, team.anna)
    request = ask(session, team, factory)
    live = queue.do_accept(session, request, team.anna.id, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        rooms.do_transfer(session, live, ben.id)  # type: ignore[arg-type]  # Ben is offline
    online(session, ben)
    rooms.do_transfer(session, live, ben.id)  # type: ignore[arg-type]
    assert live.associate_id == ben.id
    session.refresh(request)
    assert request.associate_id == ben.id


def test_offline_answer_outside_hours_with_next_opening(session: Session, factory: Factory) -> None:
    hours = [av.Span(d, time(10, 0), time(19, 0)) for d in range(5)]  # Mon-Fri
    team = staff(factory, session, hours=hours)
    team.brand.offline_message = "We are closed. Leave a message or book a time."
    session.add(team.brand)
    session.commit()
    saturday_night = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    result = queue.do_enqueue(
        session,
        brand=team.brand,
        shopper_id=factory.shopper().id,
        now=saturday_night,  # type: ignore[arg-type]
    )
    assert isinstance(result, queue.OfflineAnswer)
    assert result.message == "We are closed. Leave a message or book a time."
    # Monday 10:00 in Paris, already summer time: 08:00 UTC.
    assert result.next_opening == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert team.store.id is not None
    do_set_weekly_hours(session, team.anna, [], store_id=team.store.id)
    assert queue.next_opening(session, team.brand.id, saturday_night) is None  # type: ignore[arg-type]


def test_talk_now_api_and_messages_left(
    client: FlaskClient, app: object, team: Team, factory: Factory, session: Session
) -> None:
    url = f"/api/brands/{team.brand.id}/queue"
    offline = client.post(url, json={"mode": "video"}).get_json()
    assert offline["status"] == "offline" and offline["offline"]["message"]
    assert offline["offline"]["next_opening"]
    assert client.post(url, json={"mode": "fax"}).status_code == 422
    page = client.get(f"/b/{team.brand.slug}/talk")
    assert page.status_code == 200 and b"Leave a message" in page.data

    left = client.post(
        f"/api/brands/{team.brand.id}/messages",
        json={"name": "Camille", "email": "c@example.com", "body": "Do you have it in blue?"},
    )
    assert left.status_code == 201
    assert (
        client.post(
            f"/api/brands/{team.brand.id}/messages", json={"name": "C", "email": "x", "body": "hi"}
        ).status_code
        == 422
    )

    email = factory.user_of(team.anna).email
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    associate = app.test_client()  # type: ignore[attr-defined]
    login(associate, email)
    assert (
        associate.put(
            f"/api/associates/{team.anna.id}/status", json={"status": "online"}
        ).status_code
        == 200
    )
    queued = client.post(url, json={"mode": "chat"}).get_json()
    assert queued["status"] == "offered" and queued["position"] == 1
    day = associate.get(f"/api/associates/{team.anna.id}/today").get_json()
    assert [o["id"] for o in day["offers"]] == [queued["id"]]
    assert [m["body"] for m in day["messages"]] == ["Do you have it in blue?"]
    assert client.post(f"/api/queue/{queued['id']}/accept").status_code == 401
    accepted = associate.post(f"/api/queue/{queued['id']}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    state = client.get(f"/api/queue/{queued['id']}").get_json()
    assert state["status"] == "accepted" and state["live_session_id"] == accepted.get_json()["id"]
    assert client.get(f"/consult/{state['live_session_id']}").status_code == 200
    stranger = app.test_client()  # type: ignore[attr-defined]
    assert stranger.get(f"/consult/{state['live_session_id']}").status_code == 403
    assert stranger.get(f"/api/queue/{queued['id']}").status_code == 404
