"""The embed across two sites, as a brand's shopper meets it: the brand's page on
`localhost:<port>` frames Vitrine on `127.0.0.1:<port>` (different sites to the browser, so
Vitrine's SameSite=Lax cookie is neither sent nor set inside the iframe). The video plays,
the chat takes a message, the product goes into the bag, and "Go to checkout" opens that
same bag in the top window, on Vitrine's own site. The brand lists the page's origin
(CSP frame-ancestors); the token in the frame is for that brand only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from sessions.embedding import do_set_embed_origins
from sessions.shows.lifecycle import do_start_show
from tests.browser.conftest import DESKTOP
from tests.browser.test_live_journey import video_is_playing
from tests.factories import OPERATOR, Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.media, pytest.mark.slow]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Maison Aurèle — journal</title></head>
<body>
  <h1>Our autumn journal</h1>
  <div data-vitrine-show="{show_id}"></div>
  <script src="{base}/embed.js" async></script>
</body></html>
"""


def test_a_cross_site_embed_plays_chats_and_checks_out_as_the_same_shopper(
    web: WebServer,
    seed: Factory,
    chromium: Any,
    synthetic_camera: Any,
    other_origin: tuple[str, Path],
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    product = seed.product(brand, name="Foulard soie", sizes=("90",), stock=3)
    show = seed.show(brand, title="Silk, live", product_ids=[product.id])
    live = do_start_show(seed.session, OPERATOR, show)
    served_at, site_dir = other_origin
    site = served_at.replace("127.0.0.1", "localhost")  # another site than Vitrine's
    assert web.url.startswith("http://127.0.0.1:")
    do_set_embed_origins(seed.session, brand, [site], allow_http=True)
    seed.session.commit()
    synthetic_camera(live.room)
    (site_dir / "index.html").write_text(PAGE.format(show_id=show.id, base=web.url))

    # The brand's listed origin, and only it, may frame the embed.
    policy = requests.get(f"{web.url}/embed/shows/{show.id}", timeout=10).headers
    assert f"frame-ancestors {site}" in policy["Content-Security-Policy"]

    context = chromium.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(f"{site}/index.html")
    iframe = page.wait_for_selector("iframe[src*='/embed/shows/']")
    assert iframe is not None
    frame = iframe.content_frame()
    assert frame is not None
    frame.wait_for_url("**/embed/shows/**")
    frame.wait_for_selector("#player", state="attached")
    video_is_playing(frame, "#player", timeout=45_000)
    frame.wait_for_selector("#state-badge[data-state='live']")
    # Nothing of Vitrine's was stored for the iframe: the cookie is refused cross-site.
    assert not [c for c in context.cookies(web.url) if c["name"] == "vitrine_session"]

    frame.locator("#chat-input").fill("Is the silk washable?")
    frame.locator("#chat-form").get_by_role("button", name="Send").click()
    frame.locator("#messages").get_by_text("Is the silk washable?").wait_for(timeout=20_000)

    card = frame.locator(".product-card[data-product-id]").first
    card.get_by_role("button", name="Add to bag").click()
    frame.wait_for_function(
        "document.querySelector('[data-bag-count]').textContent.trim() === '1'", timeout=20_000
    )

    # Checkout: the top window leaves the brand's page for Vitrine's bag, the same one.
    frame.locator("[data-open-bag]").click()
    frame.get_by_role("button", name="Go to checkout").click()
    page.wait_for_url(f"{web.url}/b/{brand.slug}/bag", timeout=20_000)
    page.get_by_text("Foulard soie").first.wait_for(timeout=10_000)
    cookie = [c for c in context.cookies(web.url) if c["name"] == "vitrine_session"]
    assert cookie, "the top window keeps the shopper in Vitrine's own cookie"
    bag = page.evaluate(
        f"fetch('/api/bag?brand_id={brand.id}', {{credentials: 'same-origin'}}).then(r => r.json())"
    )
    assert bag["count"] == 1 and bag["lines"][0]["name"] == "Foulard soie", bag
    context.close()
