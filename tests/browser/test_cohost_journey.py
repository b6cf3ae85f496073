"""A co-host journey in real Chromium (fake camera and microphone): the host goes live and
invites a guest by link; the guest accepts (a POST), checks their camera and joins; a
viewer's phone plays both pictures with who is who; the host mutes, then removes the
guest, and every screen is told. Real relay, real web node."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sessions.clock import utcnow
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    sign_in,
    take_screenshots,
)
from tests.browser.test_live_journey import video_is_playing
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NARROW_PHONE = PHONE | {"viewport": {"width": 360, "height": 780}}


def test_guest_cohost_joins_viewer_sees_both_host_mutes_and_removes(
    web: WebServer, seed: Factory, chromium: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    host = seed.associate(brand, seed.store(brand), name="Camille")
    email = seed.user_of(host).email
    show = seed.show(
        brand,
        title="The autumn edit",
        starts_at=utcnow() + timedelta(minutes=2),
        host_ids=[host.id],
    )
    seed.session.commit()

    console_ctx = chromium.new_context(**DESKTOP)
    console = console_ctx.new_page()
    sign_in(console, web.url, email, f"/console/shows/{show.id}")
    console.get_by_role("button", name="Start camera").click()
    console.wait_for_function("document.getElementById('preview').videoWidth > 0")
    console.get_by_role("button", name="Go live").click()
    console.wait_for_selector("#host-state[data-state='live']", timeout=20_000)

    # The host invites a guest by link.
    panel = console.locator("#cohost-panel")
    panel.get_by_label("Or a guest, by a link").fill("Inès, stylist")
    panel.get_by_role("button", name="Create guest link").click()
    console.wait_for_selector("#cohost-link-box:not([hidden])")
    link = console.input_value("#cohost-link")
    assert "/cohost/" in link
    console.wait_for_selector("#cohost-status[data-state='invited']")

    # The guest opens the link: it says what it is; accepting is the button (a POST).
    guest_ctx = chromium.new_context(**NARROW_PHONE)
    guest = guest_ctx.new_page()
    guest.goto(link)
    guest.get_by_text("Inès, stylist, you are invited to co-host").wait_for()
    assert axe_violations(guest) == []
    guest.get_by_role("button", name="Accept and open my co-host page").click()
    guest.wait_for_url("**/cohost/stage/*")
    guest.locator("#cohost-state").get_by_text("Camera off").wait_for()
    guest.get_by_role("button", name="Check camera and microphone").click()
    guest.wait_for_function("document.getElementById('cohost-preview').videoWidth > 0")
    guest.get_by_role("button", name="Join the show").click()
    guest.wait_for_selector("#cohost-state[data-state='live']", timeout=20_000)
    guest.locator("#cohost-state").get_by_text("You are on air").wait_for()
    assert axe_violations(guest) == []
    console.wait_for_selector("#cohost-status[data-state='on_air']")

    # A viewer on a 360 px phone: both pictures play, each with its name, no side scroll.
    phone_ctx = chromium.new_context(**NARROW_PHONE)
    phone = phone_ctx.new_page()
    phone.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
    video_is_playing(phone, "#player")
    video_is_playing(phone, "#cohost-player")
    assert phone.is_visible("#cohost-tile")
    assert phone.inner_text("#cohost-label") == "Inès, stylist"
    assert phone.inner_text("#host-label") == "Camille"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width})"
    if take_screenshots():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=str(SCREENSHOTS / "cohost-viewer-phone.png"))
        console.screenshot(path=str(SCREENSHOTS / "cohost-console.png"), full_page=True)

    # The host mutes the guest: the guest is told, viewers read it under the picture.
    console.get_by_role("button", name="Mute co-host").click()
    guest.get_by_text("The host muted your microphone").wait_for()
    phone.wait_for_function(
        "document.getElementById('cohost-label').textContent === 'Inès, stylist · muted'"
    )
    console.wait_for_selector("#cohost-status[data-state='muted']")

    # The host removes the guest: their page says so, their tile leaves the viewer's stage.
    console.get_by_role("button", name="Remove co-host").click()
    guest.get_by_text("The host removed you from the show").wait_for()
    guest.wait_for_selector("#cohost-state[data-state='removed']")
    phone.wait_for_selector("#cohost-tile", state="hidden")
    video_is_playing(phone, "#player")  # the host's picture goes on
    console.wait_for_selector("#cohost-status[data-state='none']")

    # The same link cannot bring them back.
    guest.goto(link)
    guest.get_by_text("This invitation link has already been used.").wait_for()
    for ctx in (console_ctx, guest_ctx, phone_ctx):
        ctx.close()


def test_an_invited_associate_sees_the_invitation_pushed_on_their_console(
    web: WebServer, seed: Factory, chromium: Any
) -> None:
    """The host invites a colleague from the panel: the colleague's console (another page
    than the show's) shows the notice at once, its link opens their co-host page; removed,
    the notice leaves every console page they have open, the inbox's too."""
    brand = seed.brand(name="Maison Aurèle", slug="aurele-invite")
    store = seed.store(brand)
    host = seed.associate(brand, store, name="Camille")
    colleague = seed.associate(brand, store, name="Hugo")
    host_email, colleague_email = seed.user_of(host).email, seed.user_of(colleague).email
    show = seed.show(
        brand,
        title="The winter edit",
        starts_at=utcnow() + timedelta(hours=2),
        host_ids=[host.id],
    )
    seed.session.commit()

    colleague_ctx = chromium.new_context(**DESKTOP)
    settings = colleague_ctx.new_page()
    sign_in(settings, web.url, colleague_email, "/console/settings")
    inbox = colleague_ctx.new_page()
    inbox.goto(f"{web.url}/console/inbox")
    for page in (settings, inbox):
        page.wait_for_selector("#cohost-invites[data-listening='1']", state="attached")
        assert page.locator(".cohost-invite").count() == 0

    console_ctx = chromium.new_context(**DESKTOP)
    console = console_ctx.new_page()
    sign_in(console, web.url, host_email, f"/console/shows/{show.id}")
    panel = console.locator("#cohost-panel")
    panel.get_by_label("An associate of the brand").select_option(label="Hugo")
    panel.get_by_role("button", name="Invite associate").click()
    console.wait_for_selector("#cohost-status[data-state='accepted']")

    for page in (settings, inbox):
        notice = page.locator(".cohost-invite")
        notice.get_by_text("You are invited to co-host “The winter edit”.").wait_for()
    assert axe_violations(settings) == []
    settings.locator(".cohost-invite").get_by_role("link", name="Join as co-host").click()
    settings.wait_for_url("**/cohost/stage/*")
    settings.get_by_role("heading", name="The winter edit").wait_for()

    console.get_by_role("button", name="Remove co-host").click()
    console.wait_for_selector("#cohost-status[data-state='none']")
    inbox.locator(".cohost-invite").wait_for(state="detached")
    settings.goto(f"{web.url}/console/settings")  # a page opened after: nothing listed
    settings.wait_for_selector("#cohost-invites[data-listening='1']", state="attached")
    assert settings.locator(".cohost-invite").count() == 0
    for ctx in (colleague_ctx, console_ctx):
        ctx.close()
