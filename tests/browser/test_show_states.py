"""A shopper's page follows the show by push (real Chromium, real web node): on an
upcoming show's page, "remind me" works without leaving it; when the brand's admin cancels
the show, the page says so at once — no reload — and drops "remind me"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sessions.clock import utcnow
from tests.browser.conftest import PHONE
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer

pytestmark = [pytest.mark.browser]


def test_the_page_learns_the_show_was_cancelled(
    web_only: WebServer, seed: Factory, chromium: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle")
    host = seed.associate(brand)
    show = seed.show(
        brand, title="Spring preview", starts_at=utcnow() + timedelta(hours=3), host_ids=[host.id]
    )
    admin = staff_http(web_only.url, seed.admin(brand).email)

    context = chromium.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{web_only.url}/b/{brand.slug}/shows/{show.id}")
        page.wait_for_selector("#state-badge[data-state='waiting']")
        page.get_by_label("Remind me by e-mail").fill("camille@example.com")
        page.get_by_role("button", name="Remind me").click()
        page.get_by_text("We will remind you. A confirmation is on its way").wait_for()
        page.wait_for_selector("#show-root[data-socket='live']")  # in the show's room again
        assert page.get_attribute("#state-badge", "data-state") == "waiting"

        assert admin.post(f"{web_only.url}/api/shows/{show.id}/cancel", timeout=10).ok
        page.wait_for_selector("#state-badge[data-state='cancelled']")
        assert page.text_content("#stage-message").strip() == "This show was cancelled."
        assert page.locator("#remind").count() == 0
    finally:
        context.close()
