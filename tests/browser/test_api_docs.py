"""The interactive API page: Swagger UI, served by Vitrine, shows every operation of the
document and can make a real call from the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, axe_violations
from tests.factories import Factory
from tests.servers import WebServer
from web.api.spec import OPERATIONS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_api_page_lists_every_operation_and_tries_one(
    web_only: WebServer, seed: Factory, chromium: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    seed.session.commit()
    context = chromium.new_context(**DESKTOP)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(web_only.url) else None,
    )
    page.goto(f"{web_only.url}/api/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() == len(OPERATIONS)
    found = axe_violations(page)
    assert found == []

    # Try one public operation for real: the brand's offline status.
    block = page.locator(
        ".opblock", has=page.locator("[data-path='/api/brands/{brand_id}/offline']")
    )
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.locator("input[placeholder='brand_id']").fill(str(brand.id))
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert outside == []  # nothing from a CDN
    context.close()
