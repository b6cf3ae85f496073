"""Real Chromium with a fake camera publishes to the relay; another page plays it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

from .conftest import GrantFactory, RunningRelay

pytestmark = [pytest.mark.media, pytest.mark.browser, pytest.mark.anyio]

STATIC = Path(__file__).resolve().parents[2] / "streaming" / "static"


@pytest.fixture
async def page_server() -> AsyncIterator[str]:
    """The test page on its own origin, so the relay's CORS is exercised too."""
    app = web.Application()
    app.router.add_static("/", STATIC)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/testpage.html"
    await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def test_chromium_publishes_and_another_chromium_plays(
    relay: RunningRelay, grant: GrantFactory, page_server: str, browser: Any
) -> None:
    def url(mode: str) -> str:
        query = {"relay": relay.url, "grant": grant("web", mode), "mode": mode}
        return f"{page_server}?{urlencode(query)}"

    publisher = await browser.new_page()
    await publisher.goto(url("publish"))
    await publisher.wait_for_function("window.relayState.phase !== 'starting'", timeout=15000)
    assert await publisher.evaluate("window.relayState.error") is None

    viewer = await browser.new_page()
    await viewer.goto(url("view"))
    await viewer.wait_for_function("window.relayState.phase !== 'starting'", timeout=15000)
    assert await viewer.evaluate("window.relayState.error") is None

    # Playing: the picture has a size and the clock moves.
    await viewer.wait_for_function("document.getElementById('video').videoWidth > 0", timeout=15000)
    start = await viewer.evaluate("document.getElementById('video').currentTime")
    await viewer.wait_for_function(
        f"document.getElementById('video').currentTime > {start} + 1", timeout=15000
    )
    width = await viewer.evaluate("document.getElementById('video').videoWidth")
    assert width > 0

    # Which codec the browser got from the shared encoder (H.264 if Chromium has it).
    stats = await viewer.evaluate(
        """async () => {
            const report = await window.pc.getStats();
            const codecs = [];
            report.forEach((s) => { if (s.type === 'codec') codecs.push(s.mimeType); });
            return codecs;
        }"""
    )
    room = relay.relay.rooms["web"]
    assert room.state == "live"
    assert any(c in ("video/H264", "video/VP8") for c in stats)
    assert room.codecs == {"h264"}  # Chromium took the shared H.264

    # The host ends the show; Chromium plays the recording (H.264 + AAC in MP4).
    recording = relay.relay.status("web")["recording"]
    peer_id = await publisher.evaluate("window.relayState.peerId")
    hang_up = {"Authorization": f"Bearer {await publisher.evaluate('window.relayState.peerToken')}"}
    async with (
        aiohttp.ClientSession() as http,
        http.delete(f"{relay.url}/signal/{peer_id}", headers=hang_up) as response,
    ):
        assert response.status == 200
    replay = await browser.new_page()
    await replay.set_content(f'<video id="v" muted autoplay src="{relay.url}{recording}"></video>')
    await replay.wait_for_function(
        "(() => { const v = document.getElementById('v');"
        " return v.videoWidth > 0 && v.duration > 0.5 && v.currentTime > 0.2; })()",
        timeout=15000,
    )
    await asyncio.gather(publisher.close(), viewer.close(), replay.close())
