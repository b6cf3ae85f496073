"""A show's recording becomes its replay: kept by the web app, played on the show page."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import pytest
import requests

from sessions.clock import utcnow
from sessions.grants import issue_grant
from streaming.client import view
from tests.browser.conftest import GRANT_SECRET, Relay
from tests.factories import Factory
from tests.media.conftest import read_stamps
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer


def watch_frames(relay: Relay, room: str, count: int) -> None:
    """Watch the room as a viewer until ``count`` of the camera's frames have been
    decoded. The relay records the very packets it sends viewers (from the first
    keyframe on), so the recording then holds at least those frames."""

    async def watch() -> None:
        grant = issue_grant(GRANT_SECRET, room=room, role="view", identity="replay-test")
        viewer = await view(relay.url, grant)
        try:
            # The guard covers the camera process starting; until then the relay
            # sends its slate, which carries no stamp.
            await asyncio.wait_for(read_stamps(viewer.video, count), 30)
        finally:
            await viewer.close()

    # In a thread of its own: Playwright's sync API already runs a loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, watch()).result()


@pytest.mark.browser
@pytest.mark.media
def test_ended_show_plays_its_recording(
    seed: Factory, web: WebServer, relay: Relay, synthetic_camera: Any, chromium: Any
) -> None:
    brand = seed.brand()
    host = seed.associate(brand)
    show = seed.show(brand, starts_at=utcnow(), allow_past=True, host_ids=[host.id])
    live = seed.live_session(show)
    http = staff_http(web.url, seed.user_of(host).email)
    assert http.post(f"{web.url}/api/shows/{show.id}/start", timeout=10).ok
    synthetic_camera(live.room)
    # The recorder starts at its first keyframe, a few frames after a viewer may: watch well
    # past the frames the file is asked to hold, so the margin is not a race.
    watch_frames(relay, live.room, 30)

    assert http.post(f"{web.url}/api/shows/{show.id}/end", timeout=10).ok
    # Kept, not shown yet: the brand's admin publishes the replay (docs/shows.md).
    api = f"{web.url}/api/shows/{show.id}"
    assert requests.get(api, timeout=10).json()["replay_url"] is None
    admin = staff_http(web.url, seed.admin(brand).email)
    published = admin.post(f"{api}/replay/publish", timeout=10)
    assert published.ok and published.json()["status"] == "replay_published"
    replay_url = requests.get(api, timeout=10).json()["replay_url"]
    assert replay_url and replay_url.startswith(relay.url + "/recordings/")

    with av.open(replay_url) as container:  # the file itself: a real video with frames
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 10

    page = chromium.new_page()
    try:
        page.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
        page.wait_for_function(
            "() => { const v = document.getElementById('replay'); return v && v.readyState >= 1 }",
            timeout=15000,
        )
        assert page.text_content("#state-badge") == "Replay"
    finally:
        page.close()
