"""axe-core on the main pages, on a phone and on a desktop: no serious or critical
violations (labels, contrast, roles, names). Plus the keyboard basics."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.clock import utcnow
from sessions.models import LiveSession, SavedReply, SessionKind, SessionStatus, ShowReminder
from sessions.service import messages_left
from sessions.shows.reminders import unsubscribe_token
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, sign_in
from tests.factories import Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_main_pages_pass_axe(web_only: WebServer, seed: Factory, chromium: Any) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    store = seed.store(brand)
    product = seed.product(brand, name="Carré", sizes=("90",))
    show = seed.show(brand, title="Silk", product_ids=[product.id])
    associate = seed.associate(brand, store)
    admin_email = seed.admin(brand).email
    reminder = ShowReminder(show_id=show.id or 0, email="reminded@example.com")
    seed.session.add(reminder)
    reply = SavedReply(brand_id=brand.id or 0, title="Welcome", body="Hello {shopper}.")
    seed.session.add(reply)
    associate_email = seed.user_of(associate).email
    consultation = LiveSession(
        brand_id=brand.id,  # type: ignore[arg-type]
        kind=SessionKind.CONSULTATION,
        associate_id=associate.id,
        room="consult-axe",
        status=SessionStatus.LIVE,
        started_at=utcnow(),
    )
    seed.session.add(consultation)
    assert brand.id is not None
    messages_left.do_leave_message(
        seed.session, brand_id=brand.id, shopper_id=None, name="Iris", email="i@ex.com", body="?"
    )
    seed.session.commit()
    base = web_only.url

    phone = chromium.new_context(**PHONE).new_page()
    shopper_pages = [
        f"/b/{brand.slug}",
        f"/b/{brand.slug}/shows/{show.id}",
        f"/b/{brand.slug}/products/{product.id}",
        f"/b/{brand.slug}/bag",
        f"/embed/shows/{show.id}",
        f"/show-reminders/{unsubscribe_token('test-secret-key', reminder)}",
        "/login",
    ]
    failures: dict[str, Any] = {}
    for path in shopper_pages:
        phone.goto(f"{base}{path}")
        if found := axe_violations(phone):
            failures[path] = found

    desk = chromium.new_context(**DESKTOP).new_page()
    sign_in(desk, base, admin_email, "/admin/products")
    staff_pages = [
        "/admin/products",
        "/admin/products/new",
        f"/admin/products/{product.id}",
        "/admin/products/import",
        "/admin/people",
        f"/admin/associates/{associate.id}",
        "/admin/shows",
        "/admin/shows/new",
        f"/admin/shows/{show.id}",
        "/admin/settings",
        "/admin/replies",
        "/admin/replies/new",
        f"/admin/replies/{reply.id}",
        "/console/",
        "/console/inbox",
        f"/console/shows/{show.id}",
        "/console/hours",
        f"/console/hours?associate={associate.id}",
        "/console/messages",
    ]
    for path in staff_pages:
        desk.goto(f"{base}{path}")
        if found := axe_violations(desk):
            failures[path] = found

    # The associate's own screens, on a phone, once their data has loaded.
    mine = chromium.new_context(**PHONE).new_page()
    sign_in(mine, base, associate_email, "/console/today")
    associate_pages = {
        "/console/today": "#today[data-loaded]",
        "/console/hours": "[data-hours][data-loaded]",
        "/console/messages": "[data-messages-left][data-loaded]",
        "/console/figures": "#response-chart[data-rendered]",
        f"/console/consult/{consultation.id}": "[data-transfer]",
    }
    for path, ready in associate_pages.items():
        mine.goto(f"{base}{path}")
        mine.locator(ready).wait_for(state="attached")
        if path.startswith("/console/consult/"):
            mine.click("[data-transfer] summary")  # the transfer list, open
            mine.locator("[data-transfer-state]").filter(has_text="colleague").wait_for()
        if found := axe_violations(mine):
            failures[path] = found
    assert failures == {}


def test_show_page_is_keyboard_usable(web_only: WebServer, seed: Factory, chromium: Any) -> None:
    brand = seed.brand()
    product = seed.product(brand, name="Carré")
    show = seed.show(brand, product_ids=[product.id])
    seed.session.commit()
    page = chromium.new_context(**PHONE).new_page()
    page.goto(f"{web_only.url}/b/{brand.slug}/shows/{show.id}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Every control can be reached with Tab, in order, and has a name.
    names = []
    for _ in range(14):
        page.keyboard.press("Tab")
        names.append(
            page.evaluate(
                "(() => { const e = document.activeElement;"
                " return e.getAttribute('aria-label') || e.labels?.[0]?.textContent"
                " || e.textContent.trim(); })()"
            )
        )
    assert "Send a heart" in names
    # The phone player: the card over the video opens the sheet with its sizes and the
    # bag button, which the keyboard reaches too.
    assert "Shop Carré" in names
    while page.evaluate("document.activeElement.getAttribute('aria-label')") != "Shop Carré":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.labels?.[0]?.textContent") == "Size / colour"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Add to bag"
