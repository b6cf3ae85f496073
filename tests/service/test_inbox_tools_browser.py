"""Real Chromium, two contexts: the associate's tools in a chat. A saved reply picked with
the keyboard (one that cannot be filled is refused with its reason), one saved from the
inbox, a product found by SKU and sent as a card the shopper sees, "Seen" and typing both
ways, the shopper's history, and a transfer to a colleague listed with her load. All of
it pushed: no reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sessions.models import SavedReply
from tests.booking.conftest import staff
from tests.browser.conftest import DESKTOP, axe_violations
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def signed_in_page(chromium: Any, base: str, email: str, path: str) -> Any:
    page = chromium.new_context(**DESKTOP).new_page()
    page.goto(f"{base}/login?next={path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", Factory.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")
    return page


def test_the_associates_tools_in_a_chat(
    database_url: str, tmp_path: Path, factory: Factory, session: Session, chromium: Any
) -> None:
    team = staff(factory, session)
    asked_from = factory.product(team.brand, name="Carré", sizes=("90", "140"))
    lune = factory.product(team.brand, name="Petite Lune", stock=2, price_minor=45000)
    sku = factory.variants(lune)[0].sku
    bea = factory.associate(team.brand, team.store, name="Bea")
    session.add_all(
        [
            SavedReply(
                brand_id=team.brand.id or 0,
                title="Welcome",
                body="Hello {shopper}, I am {associate} from {store}.",
            ),
            SavedReply(brand_id=team.brand.id or 0, title="Size", body="{product} in {size}: yes."),
        ]
    )
    session.commit()
    anna_email, bea_email = factory.user_of(team.anna).email, factory.user_of(bea).email
    slug, anna_id, bea_id = team.brand.slug, team.anna.id, bea.id
    store_name, product_id = team.store.name, asked_from.id
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        base = server.url
        online = staff_http(base, anna_email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text
        associate = signed_in_page(chromium, base, anna_email, "/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()

        shopper = chromium.new_context().new_page()
        shopper.goto(f"{base}/b/{slug}/products/{product_id}")
        shopper.fill("#ask-body", "Do you have it in 140?")
        shopper.click("[data-ask-form] button[type=submit]")
        shopper.locator("[data-ask-log]").filter(has_text="in 140?").wait_for()

        associate.locator("[data-inbox-list] .inbox-row").filter(has_text="in 140?").click()
        associate.click("[data-thread-accept]")
        shopper.locator("[data-ask-status]").filter(has_text="Anna").wait_for()
        # The shopper's question says where it was asked from.
        associate.locator("[data-thread-log] .thread-about").filter(has_text="Carré").wait_for()

        # Typing both ways (each side's first keys: the notices are a few seconds apart).
        shopper.locator("#ask-body").press_sequentially("Tha")
        associate.locator("[data-thread-typing]").filter(has_text="typing").wait_for()
        associate.locator("#inbox-reply").press_sequentially("One")
        shopper.locator("[data-ask-typing]").filter(has_text="Anna is typing").wait_for()
        associate.fill("#inbox-reply", "")
        shopper.fill("#ask-body", "")

        # Saved replies, with the keyboard only.
        tools = associate.locator("[data-inbox-tools]")
        tools.wait_for()
        associate.locator("[data-tool=replies]").focus()
        associate.keyboard.press("Enter")
        associate.locator("#reply-filter").wait_for()
        associate.locator("[data-reply-options] [role=option]").nth(1).wait_for()
        associate.keyboard.type("size")
        associate.keyboard.press("Enter")  # {size}: Carré has two sizes and no bag: refused
        associate.locator("[data-reply-problem]").filter(has_text="{size}").wait_for()
        assert associate.input_value("#inbox-reply") == ""
        for _ in range(4):
            associate.keyboard.press("Backspace")
        associate.keyboard.type("wel")
        associate.keyboard.press("Enter")
        expected = f"Hello, I am Anna from {store_name}."
        assert associate.input_value("#inbox-reply") == expected  # no "Guest", no braces
        assert associate.evaluate("document.activeElement.id") == "inbox-reply"
        associate.click("[data-thread-form] button[type=submit]")
        shopper.locator("[data-ask-log]").filter(has_text=expected).wait_for()

        # "Seen" both ways: the shopper read the answer, Anna read the question.
        associate.locator("[data-thread-log] .own [data-thread-seen]").wait_for()
        shopper.locator("[data-ask-log] .own [data-thread-seen]").wait_for()

        # A placeholder typed by hand with nothing to fill it is refused, not sent.
        associate.fill("#inbox-reply", "It comes in {size}.")
        associate.click("[data-thread-form] button[type=submit]")
        associate.locator("[data-thread-error]").filter(has_text="{size}").wait_for()
        assert shopper.locator("[data-ask-log]").filter(has_text="{size}").count() == 0

        # Saving one's own reply from the inbox, then finding it in the picker.
        associate.fill("#inbox-reply", "See you soon, {associate}.")
        associate.click("[data-tool=save-reply]")
        associate.fill("#save-reply-title", "Goodbye")
        associate.click("[data-save-reply-form] button[type=submit]")
        associate.locator("[data-save-reply-status]").filter(has_text="Saved").wait_for()
        associate.fill("#inbox-reply", "")
        associate.click("[data-tool=replies]")
        associate.locator("[data-reply-options] [role=option]").filter(has_text="Goodbye").click()
        assert associate.input_value("#inbox-reply") == "See you soon, Anna."
        associate.fill("#inbox-reply", "")

        # A product found by SKU, sent as a card: photo, name, price, stock, its page.
        associate.click("[data-tool=products]")
        associate.fill("#product-search", sku.lower())
        associate.get_by_role("button", name="Send Petite Lune").click()
        card = shopper.locator("[data-ask-log] .thread-card").filter(has_text="Petite Lune")
        card.wait_for()
        card.filter(has_text="Only 2 left").wait_for()
        assert "450" in card.inner_text()
        href = card.locator("a").get_attribute("href")
        assert href == f"/b/{slug}/products/{lune.id}"
        associate.locator("[data-thread-log] .thread-card").filter(
            has_text="Petite Lune"
        ).wait_for()

        # The shopper's history, read-only.
        associate.locator("[data-history] summary").click()
        history = associate.locator("[data-history-body]")
        history.filter(has_text="Latest questions").wait_for()
        history.filter(has_text="in 140?").wait_for()

        # No serious accessibility fault with the tools open.
        associate.click("[data-tool=replies]")
        associate.locator("[data-reply-options] [role=option]").first.wait_for()
        assert axe_violations(associate) == []
        associate.keyboard.press("Escape")
        assert associate.locator("[data-tool-panel=replies]").is_hidden()

        # Transfer to Bea, listed with her load once she is here.
        bea_online = staff_http(base, bea_email).put(
            f"{base}/api/associates/{bea_id}/status", json={"status": "online"}, timeout=10
        )
        assert bea_online.status_code == 200, bea_online.text
        associate.click("[data-tool=transfer]")
        colleague = associate.locator(f"[data-colleague-id='{bea_id}']")
        colleague.filter(has_text="0 of 3 conversations").wait_for()
        colleague.get_by_role("button", name="Transfer to Bea").click()
        associate.locator("[data-thread-status]").filter(has_text="With Bea").wait_for()
        assert tools.is_hidden()  # not hers any more
        shopper.locator("[data-ask-status]").filter(has_text="Bea").wait_for()
