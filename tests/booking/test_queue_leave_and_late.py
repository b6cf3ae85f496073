"""Talk now's loose ends: a shopper leaving the queue (the associate's offer is withdrawn,
pushed to their console over a real Socket.IO client), and an associate accepting an
offer too late (409 ``offer_passed``, with words the console shows)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlmodel import Session

from sessions import clock
from sessions.db import create_all, make_engine
from sessions.errors import Conflict
from sessions.models import AssociateStatus, QueueRequest, QueueStatus
from sessions.service import queue
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory
from tests.rooms.live_clients import RoomClient, csrf_token, staff_http
from tests.servers import WebServer


class Console(RoomClient):
    EVENTS = (*RoomClient.EVENTS, "queue_offer", "queue_offer_withdrawn")  # type: ignore[assignment]


def ask(session: Session, team: Team, factory: Factory) -> QueueRequest:
    asked = queue.do_enqueue(session, brand=team.brand, shopper_id=factory.shopper().id or 0)
    assert isinstance(asked, QueueRequest)
    return asked


def test_leaving_the_queue_withdraws_the_offer_once(
    session: Session, team: Team, factory: Factory, events: list
) -> None:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    request = ask(session, team, factory)
    assert request.status is QueueStatus.OFFERED and request.associate_id == team.anna.id
    queue.do_cancel_request(session, request, request.shopper_id)
    assert request.status is QueueStatus.CANCELLED
    withdrawn = [e for e in events if e.kind == "queue_offer_withdrawn"]
    assert [(e.audience, e.data) for e in withdrawn] == [
        (f"associate:{team.anna.id}", {"request_id": request.id, "reason": "left"})
    ]
    queue.do_cancel_request(session, request, request.shopper_id)  # a second tap: nothing new
    assert len([e for e in events if e.kind == "queue_offer_withdrawn"]) == 1
    assert queue.offers_for(session, team.anna.id or 0) == []
    with pytest.raises(Conflict) as gone:
        queue.do_accept(session, request, team.anna.id or 0)
    assert gone.value.code == "offer_gone" and "left the queue" in gone.value.message


def test_an_offer_accepted_too_late_is_refused_with_offer_passed(
    session: Session, team: Team, factory: Factory
) -> None:
    bea = factory.associate(team.brand, team.store, name="Bea")
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    request = ask(session, team, factory)
    assert request.associate_id == team.anna.id
    assert request.offered_at is not None
    late = clock.as_utc(request.offered_at) + timedelta(seconds=31)
    with pytest.raises(Conflict) as refused:
        queue.do_accept(session, request, team.anna.id or 0, now=late, accept_seconds=30)
    assert refused.value.code == "offer_passed" and refused.value.status == 409
    assert "Too late" in refused.value.message and "30 seconds" in refused.value.message
    session.refresh(request)
    assert request.status is QueueStatus.WAITING  # passed on by the late tap itself

    # Passed on by the scheduler first, now offered to Bea: Anna's tap is still "too late".
    queue.do_set_status(session, bea, AssociateStatus.ONLINE, now=late)
    session.refresh(request)
    assert request.associate_id == bea.id
    with pytest.raises(Conflict) as again:
        queue.do_accept(session, request, team.anna.id or 0, now=late)
    assert again.value.code == "offer_passed"
    assert queue.do_accept(session, request, bea.id or 0, now=late).id is not None


def test_the_api_says_too_late_in_words(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    email = factory.user_of(team.anna).email
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    request = ask(session, team, factory)
    session.commit()
    anna = app.test_client()
    login(anna, email)
    offers = anna.get(f"/api/associates/{team.anna.id}/today").get_json()["offers"]
    assert [o["id"] for o in offers] == [request.id]
    with clock.travel(timedelta(seconds=35)):  # QUEUE_ACCEPT_SECONDS is 30
        late = anna.post(f"/api/queue/{request.id}/accept")
    assert late.status_code == 409
    body = late.get_json()
    assert body["error"] == "offer_passed"
    assert body["message"].startswith("Too late: you had 30 seconds to accept")


@pytest.mark.slow
def test_leaving_is_pushed_to_the_associates_console(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        anna = factory.associate(brand, factory.store(brand), name="Anna")
        email = factory.user_of(anna).email
        brand_id, anna_id = brand.id, anna.id
    engine.dispose()
    with WebServer(database_url, tmp_path) as server:
        base = server.url
        staff = staff_http(base, email)
        console = Console(base, staff)
        console.connect()
        try:
            assert console.call("console_heartbeat", {})["ok"]
            online = staff.put(
                f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
            )
            assert online.status_code == 200, online.text
            shopper = requests.Session()
            shopper.headers["X-CSRFToken"] = csrf_token(shopper, base)
            asked = shopper.post(
                f"{base}/api/brands/{brand_id}/queue", json={"mode": "chat"}, timeout=10
            )
            assert asked.status_code == 200, asked.text
            request_id = asked.json()["id"]
            offer = console.wait_for("queue_offer", lambda d: d["request_id"] == request_id, 20)
            assert offer["mode"] == "chat"

            left = shopper.delete(f"{base}/api/queue/{request_id}", timeout=10)
            assert left.status_code == 200 and left.json()["status"] == "cancelled"
            withdrawn = console.wait_for(
                "queue_offer_withdrawn", lambda d: d["request_id"] == request_id, 20
            )
            assert withdrawn == {"request_id": request_id, "reason": "left"}
            # What the console's day reads after the push: the offer is gone.
            today = staff.get(f"{base}/api/associates/{anna_id}/today", timeout=10).json()
            assert today["offers"] == []
            accept = staff.post(f"{base}/api/queue/{request_id}/accept", timeout=10)
            assert accept.status_code == 409 and "left the queue" in accept.json()["message"]
        finally:
            console.close()
