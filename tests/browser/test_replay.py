"""A show's recording becomes its replay: kept by the web app, played on the show page."""

from __future__ import annotations

import time
from typing import Any

import av
import pytest
import requests

from sessions.clock import utcnow
from tests.browser.conftest import RELAY_TOKEN, Relay
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer


def wait_for_recording(relay: Relay, room: str) -> None:
    for _ in range(150):
        status = requests.get(
            f"{relay.url}/rooms/{room}/status",
            headers={"Authorization": f"Bearer {RELAY_TOKEN}"},  # the recording's name: internal
            timeout=5,
        ).json()
        if status["publisher"] == "live" and status["recording"]:
            return
        time.sleep(0.1)  # polling another process's state: there is no event to await
    pytest.fail("the relay never started recording")


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
    wait_for_recording(relay, live.room)
    time.sleep(2)  # let two seconds of the show be recorded: the replay must have frames

    assert http.post(f"{web.url}/api/shows/{show.id}/end", timeout=10).ok
    replay_url = requests.get(f"{web.url}/api/shows/{show.id}", timeout=10).json()["replay_url"]
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
