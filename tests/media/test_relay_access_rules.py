"""What of a room the relay serves to whom, which paths it will open, and the rules of
hanging up, ending a room and spending a grant (on one relay or several)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import aiohttp
import pytest
import requests
from flask import Flask
from sqlmodel import Session

from sessions.grants import issue_grant
from sessions.models import ChatMessage, MessageKind
from streaming.client import SignalError, hang_up, post_offer, view
from streaming.config import RelayConfig
from streaming.media_files import write_marker
from streaming.synthetic import publish
from tests.conftest import login
from tests.factories import Factory
from tests.servers import RelayServer

from .conftest import (
    INTERNAL,
    SECRET,
    GrantFactory,
    RunningRelay,
    fetch,
    get_json,
    serve_relay,
    until_connected,
    wait_until,
)

pytestmark = [pytest.mark.media, pytest.mark.anyio]

JPEG, MP4, M3U8 = b"\xff\xd8\xff", b"ftyp", b"#EXTM3U"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def recording_of(relay: RunningRelay, room: str) -> str:
    async def started() -> bool:
        _, status = await get_json(f"{relay.url}/rooms/{room}/status")
        return bool(status["recording"])

    await wait_until(started, f"{room}: no recording")
    _, status = await get_json(f"{relay.url}/rooms/{room}/status")
    return str(status["recording"])


async def test_a_public_shows_files_are_public_a_private_rooms_are_not_even_after_a_restart(
    relay_config: RelayConfig, grant: GrantFactory
) -> None:
    media = relay_config.media_dir
    async with serve_relay(relay_config) as relay:
        show = await publish(relay.url, grant("show-open", "publish"))  # public, recorded
        private = await publish(
            relay.url, grant("show-closed", "publish", public=False, record=True)
        )
        try:
            show_recording = await recording_of(relay, "show-open")
            private_recording = await recording_of(relay, "show-closed")
            playlist = media / "hls" / "show-open" / "index.m3u8"

            async def files_written() -> bool:
                thumbs = (media / "thumbnails" / f"{r}.jpg" for r in ("show-open", "show-closed"))
                return all(p.is_file() for p in thumbs) and (
                    playlist.is_file() and "#EXTINF" in playlist.read_text()
                )

            await wait_until(files_written, "no thumbnails or HLS segment")
            assert not (media / "hls" / "show-closed").exists(), "HLS only for a public show"

            # The public show, to anyone: HLS while live, thumbnail, recording.
            code, body = await fetch(f"{relay.url}/hls/show-open/index.m3u8")
            assert code == 200 and body.startswith(M3U8)
            segment = next(line for line in body.decode().splitlines() if line.endswith(".m4s"))
            code, body = await fetch(f"{relay.url}/hls/show-open/{segment}")
            assert code == 200 and len(body) > 1000
            code, body = await fetch(f"{relay.url}/rooms/show-open/thumbnail.jpg")
            assert code == 200 and body.startswith(JPEG)
            code, body = await fetch(f"{relay.url}{show_recording}")
            assert code == 200 and body[4:8] == MP4

            # The private show: nothing without a grant for it.
            for route in (
                private_recording,
                "/rooms/show-closed/thumbnail.jpg",
                "/hls/show-closed/index.m3u8",
            ):
                code, body = await fetch(f"{relay.url}{route}")
                assert code == 401 and JPEG not in body and MP4 not in body, route
        finally:
            assert await hang_up(relay.url, show.peer_id, show.peer_token) == 200
            assert await hang_up(relay.url, private.peer_id, private.peer_token) == 200
            await show.close()
            await private.close()

    # A new relay process on the same media folder remembers which room was which.
    async with serve_relay(relay_config) as restarted:
        code, body = await fetch(f"{restarted.url}{show_recording}")
        assert code == 200 and body[4:8] == MP4  # the replay stays playable
        code, _ = await fetch(f"{restarted.url}{private_recording}")
        assert code == 401
        other_room = grant("show-open", "view", public=False)
        code, _ = await fetch(f"{restarted.url}{private_recording}?grant={other_room}")
        assert code == 403
        own = grant("show-closed", "view", public=False)
        code, body = await fetch(f"{restarted.url}{private_recording}?grant={own}")
        assert code == 200 and body[4:8] == MP4


async def test_no_name_to_path_route_leaves_its_folder(
    relay: RunningRelay, tmp_path: Path, app: Flask, session: Session, factory: Factory
) -> None:
    """Not even for a caller allowed everything (the internal token), nor through a
    symbolic link planted in the media folder."""
    media = relay.config.media_dir
    secret = b"SECRET-OUTSIDE-THE-MEDIA-FOLDER"
    for name in ("secret.jpg", "secret.mp4", "secret.m3u8"):
        (tmp_path / name).write_bytes(secret)
    # Links in the folders, named like a public room's files, pointing outside.
    for room in ("show-link",):
        write_marker(media, room, public=True, record=True)
        (media / "thumbnails" / f"{room}.jpg").symlink_to(tmp_path / "secret.jpg")
        (media / "recordings" / f"{room}-20260101T000000Z.mp4").symlink_to(tmp_path / "secret.mp4")
        (media / "hls" / room).mkdir()
        (media / "hls" / room / "index.m3u8").symlink_to(tmp_path / "secret.m3u8")
    routes = [
        "/rooms/..%2F..%2Fsecret/thumbnail.jpg",
        "/rooms/%2E%2E%2F%2E%2E%2Fsecret/thumbnail.jpg",
        "/rooms/..%5C..%5Csecret/thumbnail.jpg",
        "/rooms/show-link/thumbnail.jpg",
        "/hls/..%2F..%2F/secret.m3u8",
        "/hls/..%2F../secret.m3u8",
        "/hls/show-link/..%2F..%2F..%2Fsecret.m3u8",
        "/hls/show-link/index.m3u8",
        "/recordings/..%2F..%2Fsecret.mp4",
        "/recordings/%2E%2E%2F%2E%2E%2Fsecret.mp4",
        "/recordings/../../secret.mp4",
        "/recordings/show-link-20260101T000000Z.mp4",
        "/rooms/..%2F..%2Fsecret/status",
    ]
    for route in routes:
        for headers in ({}, INTERNAL):
            code, body = await fetch(f"{relay.url}{route}", headers)
            assert code < 500 and code != 200, f"{route}: {code}"
            assert secret not in body, route

    # The web app's routes that turn a name into a path: uploads and snapshots.
    live = factory.live_session(factory.show(factory.brand()))
    assert live.id is not None
    root = app.test_client()
    login(root, factory.platform_admin().email)  # allowed every snapshot: only paths stop it
    uploads = Path(app.config["UPLOAD_DIR"])
    (uploads / "snapshots").mkdir(parents=True, exist_ok=True)
    (uploads / "snapshots" / "linked.jpg").symlink_to(tmp_path / "secret.jpg")
    # A chat message that names a path outside: the route must still not follow it.
    session.add(
        ChatMessage(
            live_session_id=live.id,
            kind=MessageKind.SNAPSHOT,
            author_name="x",
            body="x",
            attachment_path="snapshots/../../secret.jpg",
        )
    )
    session.commit()
    web_routes = [
        "/uploads/../secret.jpg",
        "/uploads/..%2Fsecret.jpg",
        "/uploads/%2E%2E/secret.jpg",
        "/uploads/snapshots/linked.jpg",
        f"/snapshots/{live.id}/..%2F..%2Fsecret.jpg",
        f"/snapshots/{live.id}/linked.jpg",
    ]
    for route in web_routes:
        response = root.get(route)
        assert response.status_code in (400, 403, 404), f"{route}: {response.status_code}"
        assert secret not in response.data, route
    # Product pictures and logos stay public uploads.
    (uploads / "logos").mkdir(exist_ok=True)
    (uploads / "logos" / "brand.png").write_bytes(b"a logo")
    assert app.test_client().get("/uploads/logos/brand.png").data == b"a logo"


async def test_hanging_up_needs_the_peers_own_token(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    host = await publish(relay.url, grant("hangup", "publish"))
    viewer = await view(relay.url, grant("hangup", "view"))
    try:
        await until_connected(host.pc)
        await until_connected(viewer.pc)
        url = f"{relay.url}/signal/{host.peer_id}"
        async with aiohttp.ClientSession() as http:
            async with http.delete(url) as response:
                assert response.status == 401
            other = {"Authorization": f"Bearer {viewer.peer_token}"}
            async with http.delete(url, headers=other) as response:
                assert response.status == 403
            spent = {"Authorization": f"Bearer {grant('hangup', 'publish')}"}
            async with http.delete(url, headers=spent) as response:
                assert response.status == 403
        _, status = await get_json(f"{relay.url}/rooms/hangup/status")
        assert status["publisher"] == "live"  # nobody but the host ended the show
        assert await hang_up(relay.url, host.peer_id, host.peer_token) == 200
        _, status = await get_json(f"{relay.url}/rooms/hangup/status")
        assert status["publisher"] == "none"
    finally:
        await viewer.close()
        await host.close()


async def test_end_checks_the_role_before_it_spends_the_grant(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    async def end(room: str, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{relay.url}/rooms/{room}/end", headers=headers) as response,
        ):
            return response.status

    host = await publish(relay.url, grant("ending", "publish"))
    try:
        await until_connected(host.pc)
        view_grant = grant("ending", "view")
        assert await end("ending", view_grant) == 403
        other_room = grant("elsewhere", "publish")
        assert await end("ending", other_room) == 403
        # Both refusals spent nothing: each grant still opens what it is for.
        watcher = await view(relay.url, view_grant)
        await until_connected(watcher.pc)
        await watcher.close()
        elsewhere = await publish(relay.url, other_room)
        await until_connected(elsewhere.pc)
        await elsewhere.close()
        assert await end("ending", grant("ending", "publish")) == 200
        _, status = await get_json(f"{relay.url}/rooms/ending/status")
        assert status["publisher"] == "none"
    finally:
        await host.close()


@pytest.mark.redis
async def test_a_grant_spent_on_one_relay_is_refused_on_another(
    relay_config: RelayConfig, tmp_path: Path, grant: GrantFactory
) -> None:
    shared = dataclasses.replace(relay_config, redis_url=REDIS_URL)
    other = dataclasses.replace(shared, media_dir=tmp_path / "media-b")
    async with serve_relay(shared) as relay_a, serve_relay(other) as relay_b:
        once = grant("twice", "view")
        watcher = await view(relay_a.url, once)
        try:
            await until_connected(watcher.pc)
            with pytest.raises(SignalError) as replayed:
                await view(relay_b.url, once)
            assert replayed.value.status == 409
        finally:
            await watcher.close()
        fresh = await view(relay_b.url, grant("twice", "view"))  # B itself works
        await until_connected(fresh.pc)
        await fresh.close()


@pytest.mark.redis
async def test_relays_refuse_grants_when_their_nonce_store_is_down(
    relay_config: RelayConfig, grant: GrantFactory
) -> None:
    broken = dataclasses.replace(relay_config, redis_url="redis://127.0.0.1:1/0")
    async with serve_relay(broken) as relay:
        with pytest.raises(SignalError) as refused:
            await post_offer(relay.url, grant("down", "view"), await _recv_offer())
        assert refused.value.status == 503


async def _recv_offer() -> str:
    from aiortc import RTCPeerConnection

    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return str(sdp)


def test_the_relays_access_log_keeps_no_grant(tmp_path: Path) -> None:
    """A grant in a `<video src>` query is a credential: the log has the path only."""
    log_path = tmp_path / "relay.log"
    with log_path.open("wb") as log_file:
        relay = RelayServer(tmp_path / "media", grant_secret=SECRET, log=log_file)
        with relay:
            grant = issue_grant(SECRET, room="consult-log", role="view", identity="t")
            response = requests.get(
                f"{relay.url}/rooms/consult-log/thumbnail.jpg?grant={grant}", timeout=5
            )
            assert response.status_code == 404  # a valid grant, no thumbnail yet
    log = log_path.read_bytes()
    assert b"GET /rooms/consult-log/thumbnail.jpg" in log
    assert grant.encode() not in log and grant.split(".")[1].encode() not in log
