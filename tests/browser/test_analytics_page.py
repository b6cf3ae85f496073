"""The analytics pages in real Chromium: the charts draw, every CSV downloads and parses,
and axe finds nothing serious."""

from __future__ import annotations

import csv
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sessions.clock import utcnow
from sessions.shows import lifecycle
from tests.analytics.seed import seed_show
from tests.browser.conftest import DESKTOP, axe_violations, sign_in
from tests.factories import OPERATOR, Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def download_csv(page: Any, selector: str, tmp_path: Path) -> list[list[str]]:
    with page.expect_download() as info:
        page.click(selector)
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    with target.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def rendered(page: Any, canvas_id: str) -> None:
    page.wait_for_selector(f"canvas#{canvas_id}[data-rendered='true']")
    # Something was drawn: the canvas is not blank.
    assert page.evaluate(
        """(id) => { const c = document.getElementById(id);
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            return px.some((v, i) => i % 4 === 3 && v > 0); }""",
        canvas_id,
    )


def test_analytics_pages_draw_charts_and_export_csv(
    web_only: WebServer, seed: Factory, chromium: Any, tmp_path: Path
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele-analytics")
    start = (utcnow() - timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
    seeded = seed_show(seed.session, seed, brand, start)
    admin_email = seed.admin(brand).email
    associate_email = seed.user_of(seed.associate(brand)).email
    seed.session.commit()
    base = web_only.url
    page = chromium.new_context(**DESKTOP, accept_downloads=True).new_page()
    sign_in(page, base, admin_email, "/admin/analytics")

    rendered(page, "revenue-chart")
    shows = download_csv(page, "[data-csv='shows']", tmp_path)
    assert shows[0][:3] == ["Show", "Started (UTC)", "Unique viewers"]
    assert shows[1][0] == "Spring silks" and shows[1][2] == str(seeded.viewers)
    assert "120.00" in shows[1][7]
    period = download_csv(page, "[data-csv='period']", tmp_path)
    assert dict((row[0], row[1]) for row in period[1:])["Orders"] == "1"
    team = download_csv(page, "[data-csv='team']", tmp_path)
    assert team[0][1] == "Associate"
    assert axe_violations(page) == []

    page.click(f"a[href='/admin/analytics/shows/{seeded.show.id}']")
    page.wait_for_url(f"{base}/admin/analytics/shows/{seeded.show.id}")
    rendered(page, "viewers-chart")
    rendered(page, "funnel-chart")
    minutes = download_csv(page, "[data-csv='minutes']", tmp_path)
    assert len(minutes) == 1 + 30  # a header, then each minute of the 30-minute show
    assert [int(r[1]) for r in minutes[1:]][:5] == [1, 1, 2, 2, 3]
    assert minutes[6][2] == "Silk scarf"  # pinned at minute 5
    figures = download_csv(page, "[data-csv='figures']", tmp_path)
    assert dict((r[0], r[1]) for r in figures[1:])["Unique viewers"] == "3"
    products = download_csv(page, "[data-csv='products']", tmp_path)
    assert products[1][:3] == ["Silk scarf", "0", "2"]
    assert axe_violations(page) == []

    own = chromium.new_context(**DESKTOP, accept_downloads=True).new_page()
    sign_in(own, base, associate_email, "/console/figures")
    assert download_csv(own, "[data-csv='own']", tmp_path)[0] == ["Figure", "Value"]
    assert axe_violations(own) == []


def test_opening_a_product_card_on_the_show_page_counts_a_click(
    web_only: WebServer, seed: Factory, chromium: Any
) -> None:
    from sqlmodel import func, select

    from sessions.models import AnalyticsEvent
    from tests.browser.conftest import PHONE

    brand = seed.brand()
    product = seed.product(brand, name="Carré", sizes=("S", "M"))
    show = seed.show(brand, product_ids=[product.id])
    lifecycle.do_start_show(seed.session, OPERATOR, show)
    seed.session.commit()
    page = chromium.new_context(**PHONE).new_page()
    page.goto(f"{web_only.url}/b/{brand.slug}/shows/{show.id}")
    page.wait_for_function("document.getElementById('viewer-count').textContent === '1'")  # joined
    # On a phone the card over the video opens the sheet ("Shop"): that is opening it.
    page.locator(f".product-card[data-product-id='{product.id}'] [data-open-sheet]").click()
    page.locator("#sheet").wait_for(state="visible")

    def clicks() -> int:
        count = seed.session.exec(
            select(func.count()).where(
                AnalyticsEvent.kind == "product_click", AnalyticsEvent.product_id == product.id
            )
        ).one()
        seed.session.commit()
        return int(count)

    # The node stores it after the socket event; the database has no event to await.
    deadline = time.monotonic() + 15
    while clicks() == 0:
        assert time.monotonic() < deadline, "no product_click stored"
        time.sleep(0.05)
    assert clicks() == 1
