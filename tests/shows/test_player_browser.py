"""The player in real Chromium, on a 390×844 touch phone and at 1366×768: the live picture
plays, the shopper chats and adds the pinned product to the bag from the sheet while the
video keeps playing (its clock moves on); no sideways scroll at 390 or 360 px; desktop
keeps video, products and chat above the fold; axe finds nothing serious."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.clock import utcnow
from tests.browser.conftest import (  # noqa: F401  (the fixtures, reused)
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    db_session,
    relay,
    seed,
    synthetic_camera,
    take_screenshots,
    web,
)
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def clock_moves(page: Any, selector: str = "#player", by: float = 0.5) -> None:
    """The video has a picture and its clock moves on (it is playing, not paused)."""
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('{selector}');"
        " return v.videoWidth > 0 && v.currentTime > 0.3 && !v.paused; }",
        timeout=40_000,
    )
    before = page.evaluate(f"document.querySelector('{selector}').currentTime")
    page.wait_for_function(
        f"document.querySelector('{selector}').currentTime > {before} + {by}", timeout=15_000
    )


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return dict(found)


@pytest.mark.browser
@pytest.mark.media
def test_phone_and_desktop_player(
    seed: Factory,  # noqa: F811
    web: WebServer,  # noqa: F811
    relay: Any,  # noqa: F811
    synthetic_camera: Any,  # noqa: F811
    chromium: Any,
) -> None:
    brand = seed.brand(name="Maison Aurèle")
    host = seed.associate(brand)
    lune = seed.product(brand, name="Le sac Lune", sizes=("S", "M"), stock=4, price_minor=245000)
    show = seed.show(
        brand,
        title="The autumn edit: bags, scarves and the new Lune in every colour",
        starts_at=utcnow(),
        allow_past=True,
        host_ids=[host.id],
    )
    live = seed.live_session(show)
    seed.session.commit()
    http = staff_http(web.url, seed.user_of(host).email)
    assert http.post(f"{web.url}/api/shows/{show.id}/start", timeout=10).ok
    synthetic_camera(live.room)
    # Added live from the catalogue (not in the show's list), and marked "showing now".
    pinned = http.post(
        f"{web.url}/api/live-sessions/{live.id}/pins", json={"product_id": lune.id}, timeout=10
    )
    assert pinned.status_code == 201
    marked = http.post(
        f"{web.url}/api/live-sessions/{live.id}/showing", json={"product_id": lune.id}, timeout=10
    )
    assert marked.ok
    page_url = f"{web.url}/b/{brand.slug}/shows/{show.id}"

    phone_ctx = chromium.new_context(**PHONE)
    phone = phone_ctx.new_page()
    try:
        phone.goto(page_url)
        clock_moves(phone)
        phone.wait_for_selector("#state-badge[data-state='live']")
        assert phone.evaluate(NO_OVERFLOW)
        # Full height: the video reaches the bottom of the screen; the chat and the pinned
        # card lie over it.
        stage = box(phone, ".player .stage")
        assert stage["y"] + stage["height"] >= 844 - 2
        card = phone.locator(".player-side .product-card[data-product-id]").first
        card.wait_for()
        assert card.locator(".showing-now").text_content() == "Showing now"
        for part in (".player-side .product-card", "#chat-input", "#heart"):
            found = box(phone, part)
            # Within the screen (a pixel of sub-pixel layout rounding allowed at its edge).
            assert stage["y"] <= found["y"] and found["y"] + found["height"] <= 844 + 1, part

        phone.get_by_label("Message").tap()
        phone.get_by_label("Message").fill("Is the Lune lined in suede?")
        phone.get_by_role("button", name="Send", exact=True).tap()
        phone.locator("#messages").get_by_text("Is the Lune lined in suede?").wait_for()

        # The sheet: sizes and add to bag, over the lower part of the video, which plays on.
        card.get_by_role("button", name="Shop Le sac Lune").tap()
        sheet = phone.locator("#sheet")
        sheet.wait_for(state="visible")
        before = phone.evaluate("document.getElementById('player').currentTime")
        sheet.get_by_label("Size / colour").select_option(label="M · Black — 4 left")
        sheet.get_by_role("button", name="Add to bag").tap()
        phone.wait_for_function(
            "document.querySelector('[data-bag-count]').textContent.trim() === '1'"
        )
        sheet.get_by_text("Added to your bag.").wait_for()
        sheet.locator("[data-bag-lines]").get_by_text("Le sac Lune").wait_for()
        assert phone.evaluate("!document.getElementById('player').paused")
        clock_moves(phone)
        assert phone.evaluate("document.getElementById('player').currentTime") > before
        assert box(phone, "#player")["y"] < box(phone, "#sheet")["y"]  # the video still shows
        assert phone.evaluate(NO_OVERFLOW)
        assert axe_violations(phone) == []
        if take_screenshots():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            phone.screenshot(path=str(SCREENSHOTS / "player-phone-sheet.png"))
            phone.get_by_role("button", name="Close").tap()
            phone.screenshot(path=str(SCREENSHOTS / "player-phone.png"))

        phone.set_viewport_size({"width": 360, "height": 740})  # the narrowest phones
        phone.wait_for_function(NO_OVERFLOW)
    finally:
        phone_ctx.close()

    desktop_ctx = chromium.new_context(**(DESKTOP | {"viewport": {"width": 1366, "height": 768}}))
    desktop = desktop_ctx.new_page()
    try:
        desktop.goto(page_url)
        clock_moves(desktop)
        desktop.locator(".player-side .product-card[data-product-id]").first.wait_for()
        for part in ("#player", ".player-side .product-card", "#messages", "#chat-input"):
            found = box(desktop, part)
            assert found["y"] >= 0 and found["y"] + found["height"] <= 768, part
        assert desktop.evaluate(NO_OVERFLOW)
        assert axe_violations(desktop) == []
        if take_screenshots():
            desktop.screenshot(path=str(SCREENSHOTS / "player-desktop.png"))
    finally:
        desktop_ctx.close()
