"""The shopper's "Your data" page in a real Chromium on a 360-px phone: they download a JSON
copy holding their own message, then erase it (the box must be ticked, the erasure
confirmed); no horizontal scroll, touch targets of 44 px, axe clean, in French too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from sessions.models import ThreadMessage
from tests.browser.conftest import PHONE, SCREENSHOTS, axe_violations, take_screenshots
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SMALL_PHONE = PHONE | {"viewport": {"width": 360, "height": 780}}
ASK = """async ([brandId, body]) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const r = await fetch(`/api/brands/${brandId}/thread`, {method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
    body: JSON.stringify({body})});
  return r.status;
}"""


def fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for selector in ("[data-export]", "[data-erase] button", "[data-erase] .check"):
        box = page.locator(selector).bounding_box()
        assert box and box["height"] >= 44, f"{selector} is {box} (touch target under 44 px)"


def test_a_shopper_downloads_then_erases_their_data(
    web_only: WebServer, seed: Factory, db_session: Session, chromium: Any, tmp_path: Path
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele-privacy")
    seed.store(brand)
    seed.session.commit()
    base = web_only.url
    context = chromium.new_context(**SMALL_PHONE, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/b/{brand.slug}")
    assert page.evaluate(ASK, [brand.id, "Iris asks: is the 90 cm carré in sky blue?"]) == 201

    page.get_by_role("link", name="Your data").first.click()
    page.wait_for_url(f"{base}/b/{brand.slug}/your-data")
    assert "Messages in your conversations" in page.locator(".data-summary").inner_text()
    fits_the_phone(page)
    assert axe_violations(page) == []
    if take_screenshots():
        page.screenshot(path=str(SCREENSHOTS / "your-data-phone.png"), full_page=True)

    with page.expect_download() as download:
        page.locator("[data-export]").click()
    copy = json.loads(Path(download.value.path()).read_text())
    bodies = [m["body"] for m in copy["tables"]["thread_messages"]]
    assert "Iris asks: is the 90 cm carré in sky blue?" in bodies

    # The box unticked: the browser does not send the form.
    page.locator("[data-erase] button").click()
    assert page.url == f"{base}/b/{brand.slug}/your-data"
    page.once("dialog", lambda dialog: dialog.accept())  # "Erase everything about you?"
    page.get_by_label("I understand: erase everything about me").check()
    page.locator("[data-erase] button").click()
    page.wait_for_selector("[data-erased]")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    stored = db_session.exec(select(ThreadMessage.body)).all()
    db_session.commit()
    assert stored and set(stored) == {"[erased]"}  # theirs, and the automatic answer to them
    page.goto(f"{base}/b/{brand.slug}/your-data")
    assert page.locator("[data-nothing]").is_visible()

    french = chromium.new_context(**SMALL_PHONE, locale="fr-FR").new_page()
    french.goto(f"{base}/b/{brand.slug}/your-data")
    assert french.locator("h1").inner_text() == "Vos données"
    assert french.get_by_role("link", name="Télécharger mes données").is_visible()
    assert axe_violations(french) == []
    context.close()
