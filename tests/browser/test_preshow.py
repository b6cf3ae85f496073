"""Pre-show (real Chromium with its fake camera and microphone, real web node): the host's
check shows the preview playing and the microphone's level moving on its meter; a viewer who
arrives early sees the slate (title, "Starts in …") over the stage, which gives way to the
live picture when the host goes live (show_state, pushed). Before going live the check
measures the uplink (a burst timed by the real relay) and says in words whether it is
enough for the camera's picture; once live it shows what the browser reports sending to
the relay. Both pages axe clean."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from sessions.clock import utcnow
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, sign_in
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser]


def test_host_checks_camera_and_sound_and_early_viewers_see_the_slate(
    web: WebServer, seed: Factory, chromium: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle")
    host = seed.associate(brand, name="Camille")
    email = seed.user_of(host).email
    show = seed.show(
        brand,
        title="The winter edit",
        starts_at=utcnow() + timedelta(minutes=30),
        host_ids=[host.id],
    )
    seed.session.commit()

    console_ctx = chromium.new_context(**DESKTOP)
    viewer_ctx = chromium.new_context(**PHONE)
    try:
        console = console_ctx.new_page()
        sign_in(console, web.url, email, f"/console/shows/{show.id}")
        console.get_by_role("button", name="Check camera and sound").click()
        # The preview plays: its clock advances.
        console.wait_for_function(
            "document.getElementById('preview').videoWidth > 0", timeout=20_000
        )
        start = console.evaluate("document.getElementById('preview').currentTime")
        console.wait_for_function(
            f"document.getElementById('preview').currentTime > {start}", timeout=20_000
        )
        # The fake microphone beeps: the meter's value moves (up from 0, then changes again).
        console.wait_for_function(
            "document.getElementById('mic-level').value > 0.05", timeout=20_000
        )
        first = console.evaluate("document.getElementById('mic-level').value")
        console.wait_for_function(
            f"document.getElementById('mic-level').value !== {first}", timeout=20_000
        )
        assert console.get_by_label("Microphone level").count() == 1
        # The uplink, before going live: measured by the relay, judged against the picture.
        console.wait_for_function(
            "['enough', 'tight', 'short', 'failed']"
            ".includes(document.getElementById('check-uplink').dataset.verdict)",
            timeout=30_000,
        )
        uplink = console.text_content("#check-uplink") or ""
        # Over loopback the burst arrives far faster than any camera needs.
        assert console.get_attribute("#check-uplink", "data-verdict") == "enough", uplink
        assert re.match(
            r"^\d+\.\d Mbit/s to the video server: enough for your camera’s \d+×\d+ picture"
            r" \(it needs about \d+\.\d Mbit/s\)\.$",
            uplink,
        ), uplink
        assert int(console.get_attribute("#check-uplink", "data-kbps") or 0) > 5_000
        assert console.text_content("#check-camera") not in ("", "Not started")
        assert console.text_content("#check-microphone") not in ("", "Not started")
        assert console.text_content("#check-error") == ""
        assert axe_violations(console) == []

        viewer = viewer_ctx.new_page()
        viewer.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
        viewer.wait_for_selector("#show-root[data-socket='live']")
        slate = viewer.locator("#slate")
        assert slate.is_visible()
        assert "The winter edit" in slate.inner_text()
        viewer.wait_for_function(
            "/^Starts in (29|30):\\d\\d$/"
            ".test(document.getElementById('slate-countdown').textContent)"
        )
        assert viewer.locator("#stage-message").is_hidden()
        assert axe_violations(viewer) == []

        # The host goes live: the slate gives way at once, by push, to the live picture;
        # the check's uplink is what the browser reports it sends to the relay.
        console.get_by_role("button", name="Go live").click()
        console.wait_for_selector("#host-state[data-state='live']", timeout=20_000)
        viewer.wait_for_selector("#slate", state="hidden", timeout=20_000)
        assert viewer.get_attribute("#show-root", "data-show-status") == "live"
        viewer.wait_for_function(
            "document.getElementById('player').currentTime > 0", timeout=30_000
        )
        console.wait_for_function(
            "/^Sending [1-9]\\d* kbit\\/s/"
            ".test(document.getElementById('check-uplink').textContent)",
            timeout=20_000,
        )
    finally:
        console_ctx.close()
        viewer_ctx.close()
