"""Real Chromium, two contexts: a shopper asks from a product page, the associate's inbox
shows it without a reload, they take it and exchange messages both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from tests.booking.conftest import staff
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def signed_in_page(chromium: Any, base: str, email: str, path: str) -> Any:
    page = chromium.new_context().new_page()
    page.goto(f"{base}/login?next={path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", Factory.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")
    return page


def test_shopper_asks_from_a_product_page_and_the_inbox_shows_it_live(
    database_url: str, tmp_path: Path, factory: Factory, session: Session, chromium: Any
) -> None:
    team = staff(factory, session)
    product = factory.product(team.brand, name="Petite Lune")
    email = factory.user_of(team.anna).email
    slug, anna_id, product_id = team.brand.slug, team.anna.id, product.id
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        base = server.url
        online = staff_http(base, email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text
        associate = signed_in_page(chromium, base, email, "/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()  # its socket is connected

        shopper = chromium.new_context().new_page()
        shopper.goto(f"{base}/b/{slug}/products/{product_id}")
        shopper.fill("#ask-body", "Is the Petite Lune a true sky blue?")
        shopper.click("[data-ask-form] button[type=submit]")
        shopper.locator("[data-ask-log]").filter(has_text="true sky blue").wait_for()

        # Pushed to the console: no reload, no polling.
        row = associate.locator("[data-inbox-list] .inbox-row").filter(has_text="true sky blue")
        row.wait_for(timeout=5000)
        assert "(1)" in associate.title()  # the unread count in the tab title
        row.click()
        associate.click("[data-thread-accept]")
        shopper.locator("[data-ask-status]").filter(has_text="Anna").wait_for()

        associate.fill("#inbox-reply", "It is: measured under daylight.")
        associate.click("[data-thread-form] button[type=submit]")
        shopper.locator("[data-ask-log]").filter(has_text="measured under daylight").wait_for()
        shopper.fill("#ask-body", "Lovely, and in M?")
        shopper.click("[data-ask-form] button[type=submit]")
        associate.locator("[data-thread-log]").filter(has_text="and in M?").wait_for()
