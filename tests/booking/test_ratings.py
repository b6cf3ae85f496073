"""After a consultation: the rating and the associate's service record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.models import AssociateStatus, Bag, BagLine, ChatMessage, QueueRequest
from sessions.service import queue, ratings
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory

T0 = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_rating_and_record(
    client: FlaskClient, app: object, session: Session, team: Team, factory: Factory
) -> None:
    # The shopper asks through the API (so the client holds the shopper cookie).
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    asked = client.post(f"/api/brands/{team.brand.id}/queue", json={"mode": "chat"}).get_json()
    request = session.get(QueueRequest, asked["id"])
    assert request is not None
    request.created_at = T0
    session.add(request)
    session.commit()
    live = queue.do_accept(session, request, team.anna.id, now=T0 + timedelta(seconds=5))  # type: ignore[arg-type]
    anna_user = factory.user_of(team.anna)

    def say(seconds: int, *, staff: bool, body: str) -> None:
        session.add(
            ChatMessage(
                live_session_id=live.id,  # type: ignore[arg-type]
                user_id=anna_user.id if staff else None,
                shopper_id=None if staff else request.shopper_id,
                author_name="x",
                body=body,
                created_at=T0 + timedelta(seconds=seconds),
            )
        )

    say(20, staff=True, body="Hello!")  # first response: 20 s after asking
    say(30, staff=False, body="Is it sky blue?")
    say(40, staff=True, body="It is.")  # 10 s
    say(50, staff=False, body="And the size?")
    say(80, staff=True, body="M fits.")  # 30 s
    variant = factory.variants(factory.product(team.brand, price_minor=50000))[0]
    bag = Bag(brand_id=team.brand.id, shopper_id=request.shopper_id)  # type: ignore[arg-type]
    session.add(bag)
    session.flush()
    session.add(
        BagLine(
            bag_id=bag.id,
            variant_id=variant.id,
            quantity=2,  # type: ignore[arg-type]
            unit_price_minor=50000,
            currency="EUR",
            live_session_id=live.id,
        )
    )
    session.commit()

    url = f"/api/consultations/{live.id}/rating"
    assert client.post(url, json={"score": 6}).status_code == 422
    assert app.test_client().post(url, json={"score": 5}).status_code == 403  # type: ignore[attr-defined]
    assert client.post(url, json={"score": 5, "comment": "Lovely"}).status_code == 201
    again = client.post(url, json={"score": 1})
    assert again.status_code == 409 and "already rated" in again.get_json()["message"]

    record = ratings.associate_record(session, team.anna)
    assert record.consultations_held == 1
    assert record.first_response_seconds == 20
    assert record.average_response_seconds == 20  # (10 + 30) / 2
    assert record.rating == 5 and record.ratings_count == 1
    assert record.bag_value_minor == 100000

    email = factory.user_of(team.anna).email
    admin_email = factory.admin(team.brand).email
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    associate = app.test_client()  # type: ignore[attr-defined]
    login(associate, email)
    own = associate.get(f"/api/associates/{team.anna.id}/record").get_json()
    assert own["first_response_seconds"] == 20 and own["bag_value_minor"] == 100000
    assert associate.get(f"/api/brands/{team.brand.id}/ranking").status_code == 403
    admin = app.test_client()  # type: ignore[attr-defined]
    login(admin, admin_email)
    ranking = admin.get(f"/api/brands/{team.brand.id}/ranking").get_json()
    assert ranking[0]["associate_id"] == team.anna.id and ranking[0]["rating"] == 5
    page = client.get(f"/b/{team.brand.slug}/rate/{live.id}")
    assert page.status_code == 200
