"""Journey 1: an associate goes live from the console; a shopper on a phone watches,
chats, and adds the pinned product to the bag. Real relay, real web node, real Chromium."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sessions.catalogue import do_update_product
from sessions.clock import utcnow
from sessions.imagery import draw_product_image
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, sign_in, take_screenshots
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def video_is_playing(page: Any, selector: str, timeout: float = 30_000) -> None:
    """The picture has a size and its clock keeps moving."""
    page.wait_for_function(
        f"document.querySelector('{selector}').videoWidth > 0 "
        f"&& document.querySelector('{selector}').currentTime > 0.5",
        timeout=timeout,
    )
    before = page.evaluate(f"document.querySelector('{selector}').currentTime")
    page.wait_for_function(
        f"document.querySelector('{selector}').currentTime > {before} + 0.5", timeout=10_000
    )


def test_associate_goes_live_and_shopper_on_phone_buys(
    web: WebServer, seed: Factory, chromium: Any, tmp_path: Path
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    store = seed.store(brand, name="Paris Saint-Honoré")
    host = seed.associate(brand, store, name="Camille")
    email = seed.user_of(host).email
    bag = seed.product(brand, name="Le Petit Sac", sizes=("S", "M"), stock=5, price_minor=189000)
    draw_product_image(
        tmp_path / "uploads" / "products" / "petit-sac.jpg",
        name="Le Petit Sac",
        shape="bag",
        colour_hex="#7b2d26",
    )
    do_update_product(seed.session, bag, image_path="products/petit-sac.jpg")
    show = seed.show(
        brand,
        title="The autumn edit",
        starts_at=utcnow() + timedelta(minutes=2),
        host_ids=[host.id],
        product_ids=[bag.id],
    )
    seed.session.commit()

    # The associate signs in and goes live with the fake camera.
    console_ctx = chromium.new_context(**DESKTOP)
    console = console_ctx.new_page()
    sign_in(console, web.url, email, f"/console/shows/{show.id}")
    console.get_by_role("button", name="Start camera").click()
    console.wait_for_function("document.getElementById('preview').videoWidth > 0")
    console.get_by_role("button", name="Go live").click()
    console.wait_for_selector("#host-state[data-state='live']", timeout=20_000)

    # Pin the product from a catalogue search.
    console.get_by_label("Search the catalogue").fill("Petit")
    console.get_by_role("button", name="Pin Le Petit Sac").click()
    pinned = console.locator("#pinned-list [data-product-id] [data-stock]")
    pinned.wait_for()
    assert pinned.inner_text() == "10 in stock"

    # A shopper on a phone opens the show: the video plays.
    phone_ctx = chromium.new_context(**PHONE)
    phone = phone_ctx.new_page()
    phone.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
    video_is_playing(phone, "#player")
    phone.wait_for_selector("#state-badge[data-state='live']")

    # The shopper's chat message reaches the console.
    phone.get_by_label("Message").fill("Does it come in burgundy?")
    phone.get_by_role("button", name="Send", exact=True).click()
    console.locator("#messages").get_by_text("Does it come in burgundy?").wait_for()

    # Add the pinned product to the bag: the count rises, the stock drops on both screens.
    # On the phone the card over the video opens the sheet with the sizes.
    card = phone.locator(".player-side .product-card[data-product-id]").first
    card.get_by_role("button", name="Shop Le Petit Sac").click()
    sheet = phone.locator("#sheet")
    sheet.get_by_label("Size / colour").select_option(label="S · Black — 5 left")
    sheet.get_by_role("button", name="Add to bag").click()
    phone.wait_for_function("document.querySelector('[data-bag-count]').textContent.trim() === '1'")
    sheet.locator("[data-stock]").get_by_text("9 in stock").wait_for()
    card.locator("[data-stock]").get_by_text("9 in stock").wait_for(state="attached")
    console.locator("#pinned-list [data-stock]").get_by_text("9 in stock").wait_for()
    console.locator("#bag-feed").get_by_text("Le Petit Sac").wait_for()

    if take_screenshots():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        phone.get_by_role("button", name="Close").click()
        phone.evaluate("window.scrollTo(0, 0)")
        phone.screenshot(path=str(SCREENSHOTS / "shopper-show-phone.png"))
        console.screenshot(path=str(SCREENSHOTS / "host-console.png"), full_page=True)
    console_ctx.close()
    phone_ctx.close()
