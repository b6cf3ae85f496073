"""The media relay is restarted mid-show: a shopper's show page, left alone, comes back to
the live picture by itself (media.js: a new grant, a new offer, with backoff). The host's
side is the synthetic camera, restarted with the relay as a host's console reconnects."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessions.shows.lifecycle import do_start_show
from tests.browser.conftest import DESKTOP, GRANT_SECRET, RELAY_TOKEN
from tests.browser.test_live_journey import video_is_playing
from tests.factories import OPERATOR, Factory
from tests.servers import ROOT, RelayServer, WebServer

pytestmark = [pytest.mark.fault, pytest.mark.browser, pytest.mark.media, pytest.mark.slow]

# The time (performance.now()) of the newest video frame the page presented.
COUNT_FRAMES = """() => {
  const video = document.getElementById("player");
  window.__lastFrame = 0;
  const tick = (now) => { window.__lastFrame = now; video.requestVideoFrameCallback(tick); };
  video.requestVideoFrameCallback(tick);
}"""


class Camera:
    def __init__(self, relay_url: str, room: str) -> None:
        self.cmd = [
            sys.executable, "-m", "streaming.synthetic", "--relay", relay_url, "--room", room,
            "--grant-secret", GRANT_SECRET, "--fps", "15", "--public",
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def relay_on(tmp_path: Path, port: int | None = None) -> RelayServer:
    return RelayServer(
        tmp_path / "media",
        grant_secret=GRANT_SECRET,
        internal_token=RELAY_TOKEN,
        env={"RELAY_ALLOWED_ORIGINS": "*"},
        port=port,
    )


@pytest.fixture
def relays(tmp_path: Path) -> Iterator[list[RelayServer]]:
    started: list[RelayServer] = []
    yield started
    for relay in started:
        if relay.proc is not None and relay.proc.poll() is None:
            relay.stop()


def test_viewers_come_back_to_picture_after_a_relay_restart(
    database_url: str,
    tmp_path: Path,
    relays: list[RelayServer],
    seed: Factory,
    chromium: Any,
) -> None:
    relays.append(relay_on(tmp_path).spawn().wait_ready())
    relay = relays[0]
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    show = seed.show(brand, title="Through a restart")
    live = do_start_show(seed.session, OPERATOR, show)
    seed.session.commit()
    camera = Camera(relay.url, live.room)
    camera.start()
    env = {"RELAY_URL": relay.url, "RELAY_INTERNAL_TOKEN": RELAY_TOKEN}
    try:
        with WebServer(database_url, tmp_path, env=env, ready_timeout=90) as web:
            page = chromium.new_context(**DESKTOP).new_page()
            page.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
            video_is_playing(page, "#player", timeout=45_000)
            page.wait_for_selector("#state-badge[data-state='live']")
            page.evaluate(COUNT_FRAMES)
            page.wait_for_function("window.__lastFrame > 0", timeout=10_000)

            # The relay process dies (and the host's connection with it).
            relay.proc.kill()  # type: ignore[union-attr]
            relay.proc.wait()  # type: ignore[union-attr]
            camera.stop()
            page.wait_for_selector(
                "#state-badge:not([data-state='live'])", state="attached", timeout=30_000
            )

            # Back on the same address; the host reconnects; nobody touches the page.
            relays.append(relay_on(tmp_path, port=relay.port).spawn().wait_ready())
            camera.start()
            restarted_at = page.evaluate("performance.now()")
            page.wait_for_selector("#state-badge[data-state='live']", timeout=45_000)
            page.wait_for_function(f"window.__lastFrame > {restarted_at}", timeout=30_000)
            # And the picture keeps coming: a second later still new frames.
            seen = page.evaluate("window.__lastFrame")
            page.wait_for_function(f"window.__lastFrame > {seen} + 1000", timeout=20_000)
            assert page.evaluate("document.getElementById('player').videoWidth") > 0
            page.context.close()
    finally:
        camera.stop()
