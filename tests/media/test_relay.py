"""A real relay on loopback with real aiortc publishers and viewers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection

from streaming.client import SignalError, post_offer, view
from streaming.framecode import delay_ms, read_frame_stamp
from streaming.room import KEYFRAME_MIN_INTERVAL
from streaming.synthetic import SyntheticCameraTrack, publish

from .conftest import (
    INTERNAL,
    GrantFactory,
    Picture,
    RunningRelay,
    connected,
    expired_grant,
    first_stamp_after,
    get_json,
    next_picture,
    pictures_until,
    read_stamps,
    viewer_outlet,
    wait_for_status,
)

pytestmark = [pytest.mark.media, pytest.mark.anyio]


async def test_viewers_receive_the_publishers_frames(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(relay.url, grant("show", "publish"))
    viewers = await asyncio.gather(*(view(relay.url, grant("show", "view")) for _ in range(3)))
    try:
        # Read all viewers at once: a viewer not being read buffers frames locally.
        received = await asyncio.gather(*(read_stamps(v.video, 15) for v in viewers))
        for stamps in received:
            counters = [s.counter for s in stamps]
            assert counters == sorted(counters) and len(set(counters)) == len(counters)
            # These are the publisher's frames (how recent is the benchmark's to
            # measure: a wall-clock bound here would measure the test machine).
            assert counters[-1] < publication.video.counter
        # One H.264 encode serves them all.
        room = relay.relay.rooms["show"]
        assert room.codecs == {"h264"}
        _, status = await get_json(f"{relay.url}/rooms/show/status")
        assert status["publisher"] == "live" and status["viewers"] == 3
        assert status["full"] is False

        # Audio: Opus encoded once, decoded here to the publisher's tone.
        levels = []
        for _ in range(20):
            frame = await asyncio.wait_for(viewers[0].audio.recv(), 5)
            assert isinstance(frame, av.AudioFrame)
            levels.append(float(np.abs(frame.to_ndarray().astype(np.float64)).mean()))
        assert max(levels) > 1000

        # A viewer joining mid-stream does not wait for the next periodic keyframe
        # (up to 2 s away): the room forces one for it, and that is its first picture.
        forced = room.stats.keyframes_forced
        late = await view(relay.url, grant("show", "view"))
        viewers.append(late)
        first = await next_picture(late.video)
        assert first.keyframe and first.stamp.counter > counters[-1]
        assert room.stats.keyframes_forced > forced
        assert viewer_outlet(relay, late.peer_id).keyframes_sent >= 1
    finally:
        for viewer in viewers:
            await viewer.close()
        await publication.close()


async def test_host_drops_and_returns(relay: RunningRelay, grant: GrantFactory) -> None:
    status_url = f"{relay.url}/rooms/studio/status"
    first = await publish(relay.url, grant("studio", "publish"))
    viewer = await view(relay.url, grant("studio", "view"))
    try:
        before = (await read_stamps(viewer.video, 5))[-1]
        await first.close()  # the host's connection goes away
        await wait_for_status(status_url, "publisher", "reconnecting")
        _, status = await get_json(status_url)
        assert status["viewers"] == 1  # the viewer is still connected

        resumed_at = first.video.counter + 1000
        second = await publish(relay.url, grant("studio", "publish"), start_counter=resumed_at)
        try:
            after = await first_stamp_after(viewer.video, lambda s: s.counter >= resumed_at)
            assert after.counter > before.counter
            await wait_for_status(status_url, "publisher", "live")
            assert viewer.pc.connectionState == "connected"  # same peer, no reload
        finally:
            await second.close()
    finally:
        await viewer.close()


async def test_new_publish_replaces_the_previous_publisher(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    first = await publish(relay.url, grant("swap", "publish"))
    # The first host is live (connected) when the second takes over, as a second tab
    # would; closing a peer that is still connecting makes aiortc raise in its task.
    await connected(first.pc)
    await connected(relay.relay.peers[first.peer_id].pc)
    second = await publish(relay.url, grant("swap", "publish"), start_counter=50_000)
    viewer = await view(relay.url, grant("swap", "view"))
    try:
        stamp = await first_stamp_after(viewer.video, lambda s: True)
        assert stamp.counter >= 50_000
        assert relay.relay.rooms["swap"].publisher_id == second.peer_id
    finally:
        for closable in (viewer, first, second):
            await closable.close()


async def offer_sdp(*, send: bool) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection()
    if send:
        pc.addTransceiver(SyntheticCameraTrack(), direction="sendrecv")
    else:
        pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_grants_are_checked(relay: RunningRelay, grant: GrantFactory) -> None:
    sender, send_sdp = await offer_sdp(send=True)
    sendonly_sdp = send_sdp.replace("a=sendrecv", "a=sendonly")
    receiver, recv_sdp = await offer_sdp(send=False)
    try:
        refusals = {
            "expired": (expired_grant("g", "publish"), send_sdp, {}, 401),
            "altered": (grant("g", "publish")[:-2] + "xx", send_sdp, {}, 401),
            "garbage": ("not-a-grant", send_sdp, {}, 401),
            "view grant publishing": (grant("g", "view"), sendonly_sdp, {}, 403),
            "publish grant viewing": (grant("g", "publish"), recv_sdp, {}, 403),
            "another room": (grant("other", "view"), recv_sdp, {"room": "g"}, 403),
        }
        for name, (token, sdp, extra, status) in refusals.items():
            with pytest.raises(SignalError) as refused:
                await post_offer(relay.url, token, sdp, **extra)
            assert refused.value.status == status, name
            assert set(refused.value.body) == {"error", "message"}, name

        once = grant("g", "view")
        answer = await post_offer(relay.url, once, recv_sdp)
        with pytest.raises(SignalError) as replayed:
            await post_offer(relay.url, once, recv_sdp)
        assert replayed.value.status == 409

        # A view offer that tries to send gets a sendonly answer: nothing goes in.
        injected = await post_offer(relay.url, grant("g", "view"), send_sdp)
        video_section = injected["sdp"].split("m=video")[1]
        assert "a=sendonly" in video_section
        assert relay.relay.rooms["g"].publisher_id is None

        async with aiohttp.ClientSession() as http:
            async with http.post(f"{relay.url}/signal", data=b"{nope") as response:
                assert response.status == 400
                assert (await response.json())["error"] == "bad_request"
            async with http.post(f"{relay.url}/signal", json={"grant": "x"}) as response:
                assert response.status == 400
            hang_up = {"Authorization": f"Bearer {answer['peer_token']}"}
            async with http.delete(
                f"{relay.url}/signal/{answer['peer_id']}", headers=hang_up
            ) as response:
                assert response.status == 200
            async with http.delete(
                f"{relay.url}/signal/{answer['peer_id']}", headers=hang_up
            ) as response:
                assert response.status == 404
    finally:
        await sender.close()
        await receiver.close()


async def test_recording_hls_snapshot_thumbnail_metrics(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    import cv2

    from streaming.framecode import read_stamp

    room_url = f"{relay.url}/rooms/replay"
    publish_grant = grant("replay", "publish")
    publication = await publish(relay.url, publish_grant)
    viewer = await view(relay.url, grant("replay", "view"))
    try:
        await read_stamps(viewer.video, 5)
        _, status = await get_json(f"{room_url}/status")
        assert status["hls"] == "/hls/replay/index.m3u8"
        assert status["recording"].startswith("/recordings/replay-")

        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {publish_grant}"}
            async with http.post(f"{room_url}/snapshot", headers=headers) as response:
                assert response.status == 200
                assert response.content_type == "image/jpeg"
                jpeg = await response.read()
            image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            assert image is not None
            assert image.shape == (480, 640, 3) and read_stamp(image) is not None
            assert list((relay.config.media_dir / "snapshots").glob("replay-*.jpg"))
            # The colour snapshot: a lossless PNG, the mean of the next frames (the stamp
            # moves frame to frame, the picture is still the camera's frame size).
            colour_url = f"{room_url}/snapshot?colour=1"
            async with http.post(colour_url, headers=headers) as response:
                assert response.status == 200
                assert response.content_type == "image/png"
                png = await response.read()
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            mean = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
            assert mean is not None and mean.shape == (480, 640, 3)
            assert list((relay.config.media_dir / "snapshots").glob("replay-*.png"))

            wrong = {"Authorization": f"Bearer {grant('elsewhere', 'publish')}"}
            async with http.post(f"{room_url}/snapshot", headers=wrong) as response:
                assert response.status == 403
            viewer_only = {"Authorization": f"Bearer {grant('replay', 'view')}"}
            async with http.post(f"{room_url}/snapshot", headers=viewer_only) as response:
                assert response.status == 403
            async with http.post(f"{room_url}/snapshot") as response:
                assert response.status == 401

            async with http.get(f"{room_url}/thumbnail.jpg") as response:
                assert response.status == 200
                assert (await response.read())[:2] == b"\xff\xd8"
            # An unknown room is private (401 to the public): ask as the web app does.
            nobody = f"{relay.url}/rooms/nobody/thumbnail.jpg"
            async with http.get(nobody, headers=INTERNAL) as response:
                assert response.status == 404
                assert (await response.json())["error"] == "no_thumbnail"

            async with http.get(f"{relay.url}/metrics", headers=INTERNAL) as response:
                metrics = await response.text()
            assert 'relay_room_viewers{room="replay"} 1.0' in metrics
            assert 'relay_room_publisher_state{room="replay"} 1.0' in metrics
            assert 'relay_room_frames_sent_total{room="replay"}' in metrics
            for probe in ("healthz", "readyz"):
                async with http.get(f"{relay.url}/{probe}") as response:
                    assert response.status == 200

            # LL-HLS: parts of 0.2 s, segments on keyframes; the muxer takes each
            # packet before any viewer is sent it, so every keyframe the viewer decodes
            # is a moment to look at the playlist for a complete segment.
            playlist = relay.config.media_dir / "hls" / "replay" / "index.m3u8"
            while not (playlist.exists() and "#EXTINF" in playlist.read_text()):
                await next_picture(viewer.video, lambda p: p.keyframe)
            async with http.get(f"{relay.url}/hls/replay/index.m3u8") as response:
                assert response.status == 200
                text = await response.text()
            assert "#EXT-X-PART:" in text
            segment = next(line for line in text.splitlines() if line.endswith(".m4s"))
            async with http.get(f"{relay.url}/hls/replay/{segment}") as response:
                assert response.status == 200 and len(await response.read()) > 1000
                assert response.headers["Content-Type"] == "video/iso.segment"

            recording = status["recording"]
            watched = await pictures_until(viewer.video, publication.video.counter)
            hang_up = {"Authorization": f"Bearer {publication.peer_token}"}
            async with http.delete(
                f"{relay.url}/signal/{publication.peer_id}", headers=hang_up
            ) as response:
                assert response.status == 200  # the host ends the show: files are closed
            async with http.get(f"{relay.url}{recording}") as response:
                assert response.status == 200
        path = relay.config.media_dir / "recordings" / recording.rsplit("/", 1)[1]
        with av.open(str(path)) as container:
            decoded = (read_frame_stamp(frame) for frame in container.decode(video=0))
            recorded = [stamp for stamp in decoded if stamp is not None]
        with av.open(str(path)) as container:
            audio_frames = sum(1 for _ in container.decode(audio=0))
        # The recording holds the packets viewers are sent: every frame the viewer
        # decoded, in the publisher's numbers.
        assert {p.stamp.counter for p in watched} <= {stamp.counter for stamp in recorded}
        # And sound along the way: both are paced by the publisher's clock, so AAC
        # (1024 samples a frame) covers the video's span, less what was in flight.
        span_ms = delay_ms(recorded[0].sent_ms, recorded[-1].sent_ms)
        assert audio_frames * 1024 / 48 >= span_ms / 2
        _, status = await get_json(f"{room_url}/status")
        assert status["publisher"] == "none" and status["recording"] is None
    finally:
        await viewer.close()
        await publication.close()


async def test_full_room_refuses_viewers(relay: RunningRelay, grant: GrantFactory) -> None:
    object.__setattr__(relay.config, "max_viewers", 1)
    viewer = await view(relay.url, grant("tiny", "view"))
    try:
        # Connected, both ends, before anything closes it: aiortc raises in its connect
        # task when a peer is closed half-way through connecting.
        await connected(viewer.pc)
        await connected(relay.relay.peers[viewer.peer_id].pc)
        _, status = await get_json(f"{relay.url}/rooms/tiny/status")
        assert status["full"] is True
        with pytest.raises(SignalError) as refused:
            await view(relay.url, grant("tiny", "view"))
        assert refused.value.status == 503
    finally:
        await viewer.close()


async def test_viewer_pli_forces_rate_limited_keyframes(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(relay.url, grant("pli", "publish"), audio=False)
    viewer = await view(relay.url, grant("pli", "view"))
    try:
        await read_stamps(viewer.video, 3)
        room = relay.relay.rooms["pli"]
        receiver = next(r for r in viewer.pc.getReceivers() if r.track.kind == "video")
        ssrc = receiver.getSynchronizationSources()[0].source

        async def pli() -> None:
            # A real RTCP PLI from the viewer; aiortc has no public call for one.
            await receiver._send_rtcp_pli(ssrc)

        def forced_since(count: int) -> Callable[[Picture], bool]:
            """A keyframe the viewer decodes once the room has forced one more."""
            return lambda picture: picture.keyframe and room.stats.keyframes_forced > count

        # One PLI is honoured: the viewer soon decodes a keyframe the room forced
        # (without the PLI hook only periodic ones come, and this never returns).
        forced = room.stats.keyframes_forced
        await pli()
        await next_picture(viewer.video, forced_since(forced))

        # A storm of PLIs costs at most one forced keyframe per 0.5 s, however slow
        # the machine: counted against the room's own clock, not a fixed window.
        forced = room.stats.keyframes_forced
        started = time.monotonic()
        for _ in range(24):
            await pli()
            await asyncio.sleep(0.05)  # the storm's pace, not a wait for anything
        await next_picture(viewer.video, forced_since(forced))
        storm = room.stats.keyframes_forced - forced
        # Forced keyframes at least 0.5 s apart fit this many times in what elapsed.
        assert 1 <= storm <= 1 + (time.monotonic() - started) / KEYFRAME_MIN_INTERVAL
    finally:
        await viewer.close()
        await publication.close()
