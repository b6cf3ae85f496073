"""A try-on snapshot sent from the consultation room lands in the room's chat *and* in the
shopper's one thread, pushed as a thread message; the picture is the shopper's and the
brand staff's only; a file that is not a picture is refused with a 4xx."""

from __future__ import annotations

from io import BytesIO

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlmodel import Session

from sessions.clock import utcnow
from sessions.events import Event
from sessions.models import LiveSession, SessionKind, SessionStatus, Thread
from sessions.service.threads import thread_of
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory


def jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (64, 48), (135, 180, 230)).save(out, "JPEG")
    return out.getvalue()


def consultation_with(session: Session, team: Team, shopper_id: int) -> LiveSession:
    live = LiveSession(
        brand_id=team.brand.id,  # type: ignore[arg-type]
        kind=SessionKind.CONSULTATION,
        shopper_id=shopper_id,
        associate_id=team.anna.id,
        room=f"consult-snap-{team.anna.id}",
        status=SessionStatus.LIVE,
        started_at=utcnow(),
    )
    session.add(live)
    session.commit()
    return live


def test_a_snapshot_sent_in_the_room_is_kept_in_the_shoppers_thread(
    app: Flask,
    client: FlaskClient,
    session: Session,
    team: Team,
    factory: Factory,
    events: list[Event],
) -> None:
    brand_id = team.brand.id or 0
    asked = client.post(f"/api/brands/{brand_id}/thread", json={"body": "Does it suit me?"})
    assert asked.status_code == 201, asked.get_json()
    thread = session.get(Thread, asked.get_json()["thread"]["id"])
    assert thread is not None
    live = consultation_with(session, team, thread.shopper_id)
    # The shopper agreed to keep the pictures (sessions/privacy/consent.py; refusal:
    # tests/privacy/test_consent.py).
    assert (
        client.post(f"/consult/{live.id}/consent", data={"decision": "accept"}).status_code == 302
    )
    anna = app.test_client()
    login(anna, factory.user_of(team.anna).email)

    sent = anna.post(
        f"/console/live/{live.id}/snapshot",
        data={"image": (BytesIO(jpeg()), "snapshot.jpg"), "caption": "The Carré, on me"},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["message"]["kind"] == "snapshot"

    messages = client.get(f"/api/brands/{brand_id}/thread").get_json()["messages"]
    photo = messages[-1]
    assert (photo["kind"], photo["side"], photo["author"], photo["body"]) == (
        "photo",
        "staff",
        "Anna",
        "The Carré, on me",
    )
    url = photo["attachment_url"]
    assert url.startswith(f"/snapshots/{live.id}/") and url.endswith(".jpg")
    pushed = [e for e in events if e.kind == "thread_message"]
    assert pushed and pushed[-1].data["message"]["attachment_url"] == url

    # The picture: the shopper and the brand's staff see it, nobody else.
    picture = client.get(url)
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert "no-store" in picture.headers["Cache-Control"]
    assert anna.get(url).status_code == 200
    stranger = app.test_client()
    stranger.get("/")
    stranger.post(f"/api/brands/{brand_id}/thread", json={"body": "Me too?"})
    assert stranger.get(url).status_code == 403
    assert app.test_client().get(url).status_code in (401, 403)
    other = app.test_client()
    login(other, factory.user_of(factory.associate(factory.brand())).email)
    assert other.get(url).status_code == 403

    # Bad input: not a picture, or no file at all; nothing reaches the thread.
    for data in ({"image": (BytesIO(b"not a picture"), "x.jpg")}, {}):
        refused = anna.post(
            f"/console/live/{live.id}/snapshot",
            data=data,
            content_type="multipart/form-data",
            headers={"Accept": "application/json"},  # as the room's script asks
        )
        assert refused.status_code == 422, refused.data[:300]
        assert "message" in (refused.get_json() or {})
    after = client.get(f"/api/brands/{brand_id}/thread").get_json()["messages"]
    assert len(after) == len(messages)
    # Only the consultation's associate (or the brand's) sends into it: the shopper cannot.
    assert client.post(
        f"/console/live/{live.id}/snapshot",
        data={"image": (BytesIO(jpeg()), "s.jpg")},
        content_type="multipart/form-data",
    ).status_code in (302, 401, 403)
    session.expire_all()
    assert thread_of(session, brand_id, thread.shopper_id) is not None
    session.commit()
