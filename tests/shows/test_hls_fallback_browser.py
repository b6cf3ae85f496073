"""When the WebRTC room is full the player switches to HLS: a relay that takes no WebRTC
viewer at all (RELAY_MAX_VIEWERS=0) sends the phone to the room's HLS rendition, which
the synthetic camera's public room writes; the page plays it through hls.js (no WebRTC
stream on the video), says Live, and its clock moves on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sessions.clock import utcnow
from tests.browser.conftest import (  # noqa: F401  (the fixtures, reused)
    GRANT_SECRET,
    PHONE,
    RELAY_TOKEN,
    Relay,
    db_session,
    seed,
    synthetic_camera,
    web,
)
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import ROOT, WebServer, free_port, wait_http
from tests.shows.test_player_browser import clock_moves


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    """The browser tests' relay, full from the first WebRTC viewer on."""
    port = free_port()
    env = {
        **os.environ,
        "MEDIA_GRANT_SECRET": GRANT_SECRET,
        "RELAY_MEDIA_DIR": str(tmp_path / "media"),
        "RELAY_ALLOWED_ORIGINS": "*",
        "RELAY_INTERNAL_TOKEN": RELAY_TOKEN,
        "RELAY_MAX_VIEWERS": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "streaming", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", proc)
        yield Relay(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_segments(url: str, timeout: float = 40) -> None:
    """Until the room's playlist lists a part (LL-HLS, streaming/llhls.py)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(url, timeout=5)
        if answer.ok and "#EXT-X-PART:" in answer.text:
            return
        time.sleep(0.25)
    raise AssertionError(f"no HLS part at {url} in {timeout} s")


@pytest.mark.browser
@pytest.mark.media
def test_a_full_room_plays_hls(
    seed: Factory,  # noqa: F811
    web: WebServer,  # noqa: F811
    relay: Relay,
    synthetic_camera: Any,  # noqa: F811
    chromium: Any,
) -> None:
    brand = seed.brand()
    host = seed.associate(brand)
    show = seed.show(brand, starts_at=utcnow(), allow_past=True, host_ids=[host.id])
    live = seed.live_session(show)
    seed.session.commit()
    http = staff_http(web.url, seed.user_of(host).email)
    assert http.post(f"{web.url}/api/shows/{show.id}/start", timeout=10).ok
    synthetic_camera(live.room)
    wait_for_segments(f"{relay.url}/hls/{live.room}/index.m3u8")

    context = chromium.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
        clock_moves(page, by=1.0)
        assert page.evaluate("document.getElementById('player').srcObject") is None  # not WebRTC
        assert page.evaluate("typeof window.Hls") == "function"  # hls.js plays the playlist
        assert page.text_content("#state-badge") == "Live"
    finally:
        context.close()
