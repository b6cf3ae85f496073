"""Consent before a consultation's media is kept: the shopper is asked on the room's page;
no answer or "no" → the relay is not asked to record and a snapshot is refused with the
reason (nothing written to disk); "yes" → recorded and kept; the answer is stored with its
time and pushed to the room's hosts."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.events import Event
from sessions.grants import verify_grant
from sessions.models import Brand, ChatMessage, ConsultationConsent, LiveSession, SessionStatus
from tests.factories import Factory
from tests.security.consultation_world import HOST, SHOPPER, World, make_world
from tests.service.test_snapshot_into_thread import jpeg


def publish_grant_records(app: Flask, host: FlaskClient, live_id: int) -> bool:
    answer = host.post(
        f"/api/consultations/{live_id}/media-grant", json={"role": "publish", "side": "associate"}
    )
    assert answer.status_code == 200, answer.get_json()
    return verify_grant(app.config["MEDIA_GRANT_SECRET"], answer.get_json()["grant"]).record


def send_snapshot(host: FlaskClient, live_id: int) -> tuple[int, dict[str, object]]:
    sent = host.post(
        f"/console/live/{live_id}/snapshot",
        data={"image": (BytesIO(jpeg()), "snapshot.jpg")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    return sent.status_code, sent.get_json() or {}


def snapshots_on_disk(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "snapshots"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_without_a_yes_nothing_is_recorded_or_kept_and_the_associate_is_told_why(
    app: Flask, factory: Factory, session: Session, events: list[Event]
) -> None:
    world: World = make_world(app, factory, session)
    brand = session.get(Brand, world.brand_a.id)
    live = session.get(LiveSession, world.consultation_id)
    assert brand is not None and live is not None
    brand.record_consultations = True
    live.status = SessionStatus.LIVE
    session.add_all([brand, live])
    session.commit()
    host, shopper = world.as_(HOST), world.as_(SHOPPER)

    page = shopper.get(f"/consult/{live.id}").get_data(as_text=True)
    assert "data-consent-form" in page and "record this consultation" in page
    staff_page = host.get(f"/console/consult/{live.id}").get_data(as_text=True)
    assert "Waiting for the shopper to agree" in staff_page

    # No answer yet: not recorded, no snapshot kept.
    assert publish_grant_records(app, host, live.id or 0) is False
    status, body = send_snapshot(host, live.id or 0)
    assert status == 409 and body["error"] == "consent_pending", body
    # The shopper declines.
    assert (
        shopper.post(f"/consult/{live.id}/consent", data={"decision": "decline"}).status_code == 302
    )
    assert publish_grant_records(app, host, live.id or 0) is False
    status, body = send_snapshot(host, live.id or 0)
    assert status == 409 and body["error"] == "consent_declined"
    assert "declined" in str(body["message"])
    assert snapshots_on_disk(app) == []
    kept = session.exec(select(ChatMessage).where(ChatMessage.live_session_id == live.id)).all()
    assert [m for m in kept if m.attachment_path] == []
    session.commit()  # end the read: on SQLite it would hold the write lock
    told = [e for e in events if e.kind == "consent"]
    assert (
        told and told[-1].data["accepted"] is False and told[-1].address.audience.value == "hosts"
    )
    staff_page = host.get(f"/console/consult/{live.id}").get_data(as_text=True)
    assert "The shopper declined" in staff_page

    # Changes their mind: yes. Recorded, and the snapshot is kept.
    answered = shopper.post(
        f"/consult/{live.id}/consent",
        data={"decision": "accept"},
        headers={"Accept": "application/json"},
    )
    assert answered.get_json() == {"consent": "accepted"}
    assert events[-1].kind == "consent" and events[-1].data["recording"] is True
    assert publish_grant_records(app, host, live.id or 0) is True
    status, body = send_snapshot(host, live.id or 0)
    assert status == 201, body
    assert len(snapshots_on_disk(app)) == 1
    row = session.exec(
        select(ConsultationConsent).where(ConsultationConsent.live_session_id == live.id)
    ).one()
    assert row.accepted and row.recording_asked and row.decided_at is not None
    session.commit()


def test_only_the_consultations_shopper_answers(
    app: Flask, factory: Factory, session: Session
) -> None:
    world = make_world(app, factory, session)
    url = f"/consult/{world.consultation_id}/consent"
    assert world.as_("guest").post(url, data={"decision": "accept"}).status_code == 404
    assert world.as_(HOST).post(url, data={"decision": "accept"}).status_code == 403
    assert app.test_client().post(url, data={"decision": "accept"}).status_code == 401
    bad = world.as_(SHOPPER).post(url, data={"decision": "maybe"})
    assert bad.status_code == 422 and b"yes or no" in bad.data
    assert session.exec(select(ConsultationConsent)).all() == []
    session.commit()
