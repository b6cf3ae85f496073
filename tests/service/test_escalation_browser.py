"""Real Chromium, two contexts, the real relay: the shopper asks in chat, taps "Show me on
camera", the associate accepts in one tap from the inbox and both land in the consultation
room, seeing each other; the other way, the associate offers and the shopper accepts in one
tap. The thread notes the video's start and end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from tests.booking.conftest import staff
from tests.browser.conftest import RELAY_TOKEN, Relay, relay  # noqa: F401  (fixture)
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer
from tests.service.test_ask_browser import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIDEO_PLAYS = """() => {
  const v = document.querySelector('video[data-remote]');
  return v && v.videoWidth > 0 && v.readyState >= 2;
}"""


def test_show_me_on_camera_both_ways(
    database_url: str,
    tmp_path: Path,
    factory: Factory,
    session: Session,
    chromium: Any,
    relay: Relay,  # noqa: F811
) -> None:
    team = staff(factory, session)
    product = factory.product(team.brand, name="Petite Lune")
    email = factory.user_of(team.anna).email
    slug, anna_id, product_id = team.brand.slug, team.anna.id, product.id
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    env = {"RELAY_URL": relay.url, "RELAY_INTERNAL_TOKEN": RELAY_TOKEN}
    with WebServer(database_url, tmp_path, env=env, create_schema=False) as server:
        base = server.url
        online = staff_http(base, email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text
        associate = signed_in_page(chromium, base, email, "/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()

        # The shopper asks in chat; Anna takes it.
        shopper = chromium.new_context().new_page()
        product_page = f"{base}/b/{slug}/products/{product_id}"
        shopper.goto(product_page)
        shopper.fill("#ask-body", "Could you show me the Petite Lune?")
        shopper.click("[data-ask-form] button[type=submit]")
        associate.locator(".inbox-row").filter(has_text="Petite Lune").click()
        associate.click("[data-thread-accept]")
        shopper.locator("[data-ask-status]").filter(has_text="Anna").wait_for()

        # "Show me on camera": Anna's inbox shows the request; one tap and both are in.
        shopper.get_by_role("button", name="Show me on camera").click()
        shopper.locator("[data-ask-video-status]").filter(has_text="Waiting for Anna").wait_for()
        request = associate.locator("[data-video-requests] li").filter(
            has_text="asks to be shown on camera"
        )
        request.get_by_role("button", name="Go on camera").click()
        associate.wait_for_url(re.compile(r"/console/consult/\d+$"))
        live_id = associate.url.rsplit("/", 1)[1]
        shopper.wait_for_url(f"{base}/consult/{live_id}")
        associate.wait_for_function(VIDEO_PLAYS, timeout=45000)
        shopper.wait_for_function(VIDEO_PLAYS, timeout=45000)
        associate.click("[data-end]")

        # The other way: back in the chat, Anna offers; the shopper accepts in one tap.
        shopper.goto(product_page)
        log = shopper.locator("[data-ask-log]")
        log.filter(has_text="Video started with Anna").wait_for()
        log.filter(has_text="Video ended").wait_for()
        shopper.locator("[data-ask][data-live]").wait_for()  # listening again
        associate.goto(f"{base}/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()
        associate.click("[data-tab=mine]")
        associate.locator(".inbox-row").filter(has_text="Guest").first.click()
        associate.get_by_role("button", name="Try it on for you on camera").click()
        associate.locator("[data-video-requests] li").filter(has_text="Waiting for").wait_for()
        offer = shopper.locator("[data-ask-video-status]").filter(has_text="Anna offers")
        offer.wait_for()
        shopper.get_by_role("button", name="Yes, on camera").click()
        shopper.wait_for_url(re.compile(r"/consult/\d+$"))
        second = shopper.url.rsplit("/", 1)[1]
        assert second != live_id  # a new consultation
        associate.wait_for_url(f"{base}/console/consult/{second}")
        associate.locator("#consult-room[data-status]").wait_for()
