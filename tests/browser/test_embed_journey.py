"""Journey 3: the embed snippet on a plain page of another origin plays the show
and adds to the bag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sessions.embedding import do_set_embed_origins
from sessions.shows.lifecycle import do_start_show, live_session_for_show
from tests.browser.conftest import PHONE
from tests.factories import OPERATOR, Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Maison Aurèle — journal</title></head>
<body>
  <h1>Our autumn journal</h1>
  <p>Join the show below.</p>
  <div data-vitrine-show="{show_id}"></div>
  <script src="{base}/embed.js" async></script>
</body></html>
"""


def test_embed_snippet_plays_and_adds_to_bag(
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
    assert live_session_for_show(seed.session, show).room == live.room
    seed.session.commit()
    synthetic_camera(live.room)

    site_url, site_dir = other_origin
    do_set_embed_origins(seed.session, brand, [site_url], allow_http=True)  # may frame it
    (site_dir / "index.html").write_text(PAGE.format(show_id=show.id, base=web.url))

    page = chromium.new_context(**PHONE).new_page()
    page.goto(f"{site_url}/index.html")
    iframe = page.wait_for_selector("iframe[src*='/embed/shows/']")
    assert iframe is not None
    frame = iframe.content_frame()
    assert frame is not None
    # The element exists before its document does: wait for the embed page itself.
    frame.wait_for_url("**/embed/shows/**")
    frame.wait_for_selector("#player", state="attached")
    frame.wait_for_function(
        "document.getElementById('player').videoWidth > 0 "
        "&& document.getElementById('player').currentTime > 0.5",
        timeout=30_000,
    )
    before = frame.evaluate("document.getElementById('player').currentTime")
    frame.wait_for_function(
        f"document.getElementById('player').currentTime > {before} + 0.5", timeout=10_000
    )
    frame.wait_for_selector("#state-badge[data-state='live']")

    card = frame.locator(".product-card[data-product-id]").first
    card.get_by_role("button", name="Add to bag").click()
    frame.wait_for_function("document.querySelector('[data-bag-count]').textContent.trim() === '1'")
    card.locator("[data-stock]").get_by_text("2 in stock").wait_for()
    page.context.close()
