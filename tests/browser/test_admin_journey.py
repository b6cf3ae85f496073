"""Journey 2: an admin creates a product with two sizes and schedules a show with it;
the show appears on the brand home with a countdown and a valid calendar file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from tests.browser.conftest import DESKTOP, axe_violations, sign_in
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_admin_creates_product_and_schedules_show(
    web_only: WebServer, seed: Factory, chromium: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    seed.store(brand, timezone="UTC")
    email = seed.admin(brand).email
    seed.session.commit()
    base = web_only.url

    context = chromium.new_context(**DESKTOP)
    page = context.new_page()
    sign_in(page, base, email, "/admin/products/new")

    # A mistake first: the form says what is wrong beside the field and keeps the name.
    page.locator("#f-name").fill("Cabas en toile")
    page.get_by_label("Price (EUR)").fill("twelve")
    page.get_by_role("button", name="Create product").click()
    assert page.locator("#e-price").inner_text().startswith("Enter a price as a number")
    assert page.locator("#f-name").input_value() == "Cabas en toile"
    assert axe_violations(page) == []

    page.get_by_label("Price (EUR)").fill("890.00")
    page.get_by_label("SKU 1").fill("CAB-S")
    page.get_by_label("Size 1").fill("S")
    page.get_by_label("Stock 1").fill("4")
    page.get_by_label("SKU 2").fill("CAB-M")
    page.get_by_label("Size 2").fill("M")
    page.get_by_label("Stock 2").fill("6")
    page.get_by_role("button", name="Create product").click()
    page.get_by_role("status").get_by_text("“Cabas en toile” was created.").wait_for()
    assert page.locator("table").first.locator("tbody tr").count() == 2  # the variants

    starts = (datetime.now(UTC) + timedelta(days=1, hours=2)).replace(second=0, microsecond=0)
    page.goto(f"{base}/admin/shows/new")
    page.locator("#f-title").fill("Le cabas, en direct")
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Cabas en toile").check()
    page.get_by_role("button", name="Schedule").click()
    page.get_by_text("“Le cabas, en direct” is scheduled.").wait_for()

    # The shopper's brand home shows it with a ticking countdown and a calendar link.
    shopper = chromium.new_context(**DESKTOP).new_page()
    shopper.goto(f"{base}/b/{brand.slug}")
    card = shopper.locator(".show-card", has_text="Le cabas, en direct")
    countdown = card.locator("[data-countdown]")
    countdown.get_by_text("Starts in 1d").wait_for()
    first = countdown.inner_text()
    shopper.wait_for_function(
        "(t) => document.querySelector('.show-card [data-countdown]').textContent !== t", arg=first
    )
    assert axe_violations(shopper) == []

    href = card.get_by_role("link", name="Add to calendar").get_attribute("href")
    response = shopper.request.get(f"{base}{href}")
    assert response.ok and response.headers["content-type"].startswith("text/calendar")
    event = next(iter(Calendar.from_ical(response.body()).walk("VEVENT")))
    assert event.decoded("dtstart") == starts
    assert event.decoded("dtend") == starts + timedelta(minutes=45)
    assert "Le cabas, en direct" in str(event.get("summary"))
    context.close()
