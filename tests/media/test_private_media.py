"""A consultation's media stays between its shopper and the brand's staff.

A real consultation is published into a real relay (aiortc peers over loopback) with
grants the web app's own endpoint issued; then an unauthenticated client tries every
route of the relay and of the web app, and gets no byte of it. The same routes work
with the right grant or sign-in, so the test can fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import aiohttp
import pytest
from aiortc import RTCPeerConnection
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.models import Brand, LiveSession, SessionStatus, Shopper
from streaming.client import SignalError, post_offer, view
from streaming.synthetic import Publication, publish
from tests.booking.matrix import booking_ids
from tests.conftest import login
from tests.factories import Factory

from .conftest import (
    INTERNAL,
    GrantFactory,
    RunningRelay,
    fetch,
    get_json,
    read_stamps,
    wait_until,
)

pytestmark = [pytest.mark.media, pytest.mark.anyio]

JPEG, MP4, M3U8 = b"\xff\xd8\xff", b"ftyp", b"#EXTM3U"


@dataclass
class Consultation:
    live: LiveSession
    associate: FlaskClient
    shopper: FlaskClient
    stranger: FlaskClient  # another brand's admin: signed in, not of this brand

    @property
    def rooms(self) -> tuple[str, str]:
        return self.live.room, f"{self.live.room}-shopper"

    def grant(self, who: FlaskClient, role: str, side: str) -> str:
        response = who.post(
            f"/api/consultations/{self.live.id}/media-grant", json={"role": role, "side": side}
        )
        assert response.status_code == 200, response.json
        return str(response.json["grant"])


@pytest.fixture
def consultation(app: Flask, session: Session, factory: Factory) -> Iterator[Consultation]:
    """A consultation the associate has let the shopper into, at a brand that records them."""
    brand = factory.brand()
    associate = factory.associate(brand)
    ids = booking_ids(session, brand, associate)
    live = session.get(LiveSession, ids["consultation_id"])
    assert live is not None
    live.status = SessionStatus.LIVE
    brand_row = session.get(Brand, brand.id)
    assert brand_row is not None
    brand_row.record_consultations = True  # so there is a recording to try to steal
    session.add_all([live, brand_row])
    session.commit()

    staff = app.test_client()
    login(staff, factory.user_of(associate).email)
    shopper = app.test_client()
    row = session.get(Shopper, live.shopper_id)
    assert row is not None
    with shopper.session_transaction() as cookie:
        cookie["shopper_token"] = row.token
    # Recorded and pictures kept: the shopper said yes (tests/privacy/test_consent.py: no).
    session.commit()  # end the read: on SQLite it would hold the write lock
    assert (
        shopper.post(f"/consult/{live.id}/consent", data={"decision": "accept"}).status_code == 302
    )
    stranger = app.test_client()
    login(stranger, factory.admin(factory.brand()).email)
    yield Consultation(live, staff, shopper, stranger)


def assert_no_media(route: str, status: int, body: bytes, secrets: list[bytes]) -> None:
    assert 400 <= status < 500, f"{route}: {status}"
    for magic in (JPEG, MP4, M3U8, *secrets):
        assert magic not in body, f"{route} leaked {magic!r}"


async def viewer_offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def publish_both_sides(
    relay: RunningRelay, consult: Consultation
) -> tuple[Publication, Publication]:
    associate = await publish(relay.url, consult.grant(consult.associate, "publish", "associate"))
    shopper = await publish(relay.url, consult.grant(consult.shopper, "publish", "shopper"))
    return associate, shopper


async def test_nobody_unauthenticated_gets_a_byte_of_a_consultation(
    relay: RunningRelay, consultation: Consultation, grant: GrantFactory, app: Flask
) -> None:
    consult = consultation
    room, shopper_room = consult.rooms
    media = relay.config.media_dir
    publications = await publish_both_sides(relay, consult)
    try:
        # The relay records (the brand asked) and thumbnails both cameras.
        async def recording_started() -> bool:
            _, status = await get_json(f"{relay.url}/rooms/{room}/status")
            return bool(status["recording"])

        await wait_until(recording_started, "no recording")
        _, status = await get_json(f"{relay.url}/rooms/{room}/status")
        recording = status["recording"].rsplit("/", 1)[1]

        async def files_written() -> bool:
            thumbs = [media / "thumbnails" / f"{r}.jpg" for r in consult.rooms]
            return (
                all(p.is_file() for p in thumbs)
                and (media / "recordings" / recording).stat().st_size > 1000
            )

        await wait_until(files_written, "no thumbnails or recording data")

        # A try-on snapshot: taken by the relay, sent into the consultation's chat.
        publish_grant = consult.grant(consult.associate, "publish", "associate")
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{relay.url}/rooms/{room}/snapshot",
                headers={"Authorization": f"Bearer {publish_grant}"},
            ) as response,
        ):
            assert response.status == 200
            jpeg = await response.read()
            relay_snapshot = response.headers["X-Snapshot-Path"]
        sent = consult.associate.post(
            f"/console/live/{consult.live.id}/snapshot",
            data={"image": (BytesIO(jpeg), "snapshot.jpg")},
            content_type="multipart/form-data",
        )
        assert sent.status_code == 201, sent.json
        snapshot_url = sent.json["message"]["attachment_url"]
        snapshot_name = snapshot_url.rsplit("/", 1)[1]
        secrets = [room.encode(), recording.encode(), snapshot_name.encode()]

        # -- every route of the relay, with no grant or with the wrong one -------------
        show_grant = grant("show-elsewhere", "view")  # anyone may get one for a public show
        stem = Path(relay_snapshot).stem
        relay_routes: list[tuple[str, dict[str, str]]] = [
            (f"/recordings/{recording}", {}),
            (f"/recordings/{recording}?grant={show_grant}", {}),
            (f"/recordings/{recording}?grant=not-a-grant", {}),
            (f"/recordings/{recording}", {"Authorization": f"Bearer {show_grant}"}),
            (f"/rooms/{room}/status", {}),
            (f"/rooms/{room}/status", {"Authorization": f"Bearer {show_grant}"}),
            ("/metrics", {}),
            ("/metrics", {"Authorization": f"Bearer {show_grant}"}),
            # Traversal: out of thumbnails/ into the relay's saved snapshots and recordings.
            (f"/rooms/..%2Fsnapshots%2F{stem}/thumbnail.jpg", {}),
            (f"/rooms/%2E%2E%2Fsnapshots%2F{stem}/thumbnail.jpg", {}),
            (f"/hls/..%2Frecordings/{recording}", {}),
            (f"/hls/{room}/..%2F..%2Frecordings%2F{recording}", {}),
            (f"/recordings/..%2Fthumbnails%2F{room}.jpg", {}),
            (f"/recordings/%2E%2E/thumbnails/{room}.jpg", {}),
            (f"/recordings/..%2Faccess%2F{room}.json", {}),
        ]
        for name in consult.rooms:
            relay_routes += [
                (f"/rooms/{name}/thumbnail.jpg", {}),
                (f"/rooms/{name}/thumbnail.jpg?grant={show_grant}", {}),
                (f"/rooms/{name}/status", {}),
                (f"/hls/{name}/index.m3u8", {}),
                (f"/hls/{name}/0123456789ab-0.0.m4s", {}),
                (f"/hls/{name}/index.m3u8?_HLS_msn=0&_HLS_part=0", {}),
            ]
        for route, headers in relay_routes:
            code, body = await fetch(f"{relay.url}{route}", headers=headers)
            assert_no_media(route, code, body, secrets)

        assert not (media / "hls" / room).exists(), "a consultation writes no HLS"
        assert not (media / "hls" / shopper_room).exists()

        # Metrics, even for the web app, name no consultation.
        code, body = await fetch(f"{relay.url}/metrics", headers=INTERNAL)
        assert code == 200 and b'room="private"' in body
        assert room.encode() not in body and shopper_room.encode() not in body

        # Watching: no grant, a garbage one, a public show's grant pointed at the room.
        pc, sdp = await viewer_offer()
        try:
            async with aiohttp.ClientSession() as http:
                body_no_grant = {"sdp": sdp, "type": "offer", "room": room}
                async with http.post(f"{relay.url}/signal", json=body_no_grant) as response:
                    assert response.status == 400
            for token, expected in (("not-a-grant", 401), (show_grant, 403)):
                with pytest.raises(SignalError) as refused:
                    await post_offer(relay.url, token, sdp, room=room)
                assert refused.value.status == expected
        finally:
            await pc.close()

        # -- every route of the web app, signed out -----------------------------------
        anonymous = app.test_client()
        path = f"snapshots/{snapshot_name}"
        web_routes = [
            f"/uploads/{path}",
            f"/uploads/./{path}",
            f"/uploads/products/../{path}",
            f"/uploads/snapshots%2F{snapshot_name}",
            snapshot_url,
            f"/consult/{consult.live.id}",
        ]
        for route in web_routes:
            response = anonymous.get(route)
            assert_no_media(route, response.status_code, response.data, [recording.encode()])
        for endpoint, body in (
            (
                f"/api/consultations/{consult.live.id}/media-grant",
                {"role": "view", "side": "associate"},
            ),
            (f"/api/live-sessions/{consult.live.id}/media-grant", {"role": "view"}),
        ):
            response = anonymous.post(endpoint, json=body)
            assert response.status_code in (401, 403), endpoint
            assert b'grant"' not in response.data
        # Signed in, but at another brand: still nothing.
        assert consult.stranger.get(snapshot_url).status_code == 403

        # -- and the same routes do work for the consultation's own people ------------
        shopper_view = consult.grant(consult.shopper, "view", "associate")  # room: the associate's
        code, body = await fetch(f"{relay.url}/recordings/{recording}?grant={shopper_view}")
        assert code == 200 and body[4:8] == MP4
        code, body = await fetch(
            f"{relay.url}/rooms/{room}/thumbnail.jpg",
            headers={"Authorization": f"Bearer {shopper_view}"},
        )
        assert code == 200 and body.startswith(JPEG)
        status_code, status = await get_json(
            f"{relay.url}/rooms/{room}/status", headers={"Authorization": f"Bearer {shopper_view}"}
        )
        assert status_code == 200 and status["publisher"] == "live"
        assert "recording" not in status  # the file's name is for the web app only
        # Reading files spent nothing: the same grant still opens the video.
        watching = await view(relay.url, shopper_view)
        try:
            assert len(await read_stamps(watching.video, 3)) == 3
        finally:
            await watching.close()
        associate_view = consult.grant(consult.associate, "view", "shopper")
        code, body = await fetch(
            f"{relay.url}/rooms/{shopper_room}/thumbnail.jpg?grant={associate_view}"
        )
        assert code == 200 and body.startswith(JPEG)
        for who in (consult.shopper, consult.associate):
            response = who.get(snapshot_url)
            assert response.status_code == 200 and response.data.startswith(JPEG)
    finally:
        for publication in publications:
            await publication.close()


async def test_an_unrecorded_consultation_leaves_no_recording(
    relay: RunningRelay, consultation: Consultation, session: Session
) -> None:
    """Recording is the brand's choice, off by default."""
    brand = session.get(Brand, consultation.live.brand_id)
    assert brand is not None
    brand.record_consultations = False
    session.add(brand)
    session.commit()
    publications = await publish_both_sides(relay, consultation)
    try:
        thumbnail = relay.config.media_dir / "thumbnails" / f"{consultation.live.room}.jpg"

        async def has_picture() -> bool:
            return thumbnail.is_file()

        await wait_until(has_picture, "the relay never got a picture")
        _, status = await get_json(f"{relay.url}/rooms/{consultation.live.room}/status")
        assert status["recording"] is None and status["hls"] is None
        assert not list((relay.config.media_dir / "recordings").iterdir())
    finally:
        for publication in publications:
            await publication.close()


def test_the_consultation_page_says_it_is_recorded(
    consultation: Consultation, session: Session
) -> None:
    page = consultation.shopper.get(f"/consult/{consultation.live.id}")
    # Asked before anything is kept (sessions/privacy/consent.py).
    assert page.status_code == 200 and b"record this consultation" in page.data
    brand = session.get(Brand, consultation.live.brand_id)
    assert brand is not None
    brand.record_consultations = False
    session.add(brand)
    session.commit()
    page = consultation.shopper.get(f"/consult/{consultation.live.id}")
    assert page.status_code == 200 and b"record this consultation" not in page.data


def test_recording_consultations_is_the_brands_choice_by_form_and_api(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    admin = app.test_client()
    login(admin, factory.admin(brand).email)

    def recorded() -> bool:
        row = session.get(Brand, brand.id)
        assert row is not None
        session.refresh(row)
        value = row.record_consultations
        session.commit()  # end the read: the app writes next
        return value

    assert recorded() is False  # off by default
    on = admin.patch(f"/api/brands/{brand.id}", json={"record_consultations": True})
    assert on.status_code == 200
    assert recorded() is True
    refused = admin.patch(f"/api/brands/{brand.id}", json={"record_consultations": None})
    assert refused.status_code in (400, 422) and recorded() is True
    form = {
        "name": "Maison",
        "primary_color": "#111111",
        "accent_color": "#222222",
        "offline_message": "Away",
        "blocked_words": "",
        "checkout_url_template": "",
        "checkout_webhook_url": "",
    }
    assert admin.post("/admin/settings", data=form).status_code == 302
    assert recorded() is False  # an unticked box turns it off
    assert (
        admin.post("/admin/settings", data=form | {"record_consultations": "1"}).status_code == 302
    )
    assert recorded() is True
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="record_consultations" value="1"' in page and "checked>" in page
