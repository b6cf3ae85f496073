"""The whole journey, real Chromium, two contexts (and the shopper's other devices), the real
relay and a real SMTP server: a shopper asks from a product page; the associate's console
rings and shows it at once, with no reload; they chat with a product card and a saved reply;
"Show me on camera" turns it into video; in the room the associate adds to the shared bag,
the shopper sees it and checks out. Then the shopper continues on another device from an
e-mailed sign-in link and sees the thread, and is recognised on a third by the same e-mail.

Every wait is on a condition (generous timeouts for a loaded machine), never a sleep."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sessions.models import SavedReply
from tests.booking.conftest import SmtpServer, staff
from tests.browser.conftest import RELAY_TOKEN, Relay, relay  # noqa: F401  (fixture)
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer
from tests.service.test_ask_browser import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG = 45_000  # ms: video through the relay on a loaded machine
LINK = re.compile(r"http://[^\s]+/signin/[\w.-]+")
VIDEO_PLAYS = """() => {
  const v = document.querySelector('video[data-remote]');
  return v && v.videoWidth > 0 && v.readyState >= 2;
}"""
# Stamps, in the associate's page, when the question first shows in the inbox (the clock is
# the machine's, shared by both contexts).
WATCH_INBOX = """(text) => {
  window.__shownAt = null;
  const where = '[data-inbox-list] .inbox-row, [data-inbox-notice]';
  const seen = () => [...document.querySelectorAll(where)]
    .some((n) => n.textContent.includes(text));
  new MutationObserver(() => { if (!window.__shownAt && seen()) window.__shownAt = Date.now(); })
    .observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def _link(smtp: SmtpServer, count: int) -> str:
    mail = smtp.inbox.wait_for(count, timeout=60)[count - 1]
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = LINK.search(body)
    assert found, body
    return found.group(0)


def _sign_in_from_mail(page: Any, link: str, base: str, slug: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Continue here").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/b/{slug}\?signed_in=1$"))


def _ask_for_link(page: Any, email: str) -> None:
    # Opened from the keyboard, not by a click at the summary's place: the panel above it
    # is still filling in (the earlier conversation, its product card, the video's state),
    # and on a loaded machine a click aimed before a shift landed beside it and the form
    # stayed closed (CI, PostgreSQL pass).
    page.locator("[data-signin-form] summary").press("Enter")
    page.locator("[data-signin-form][open]").wait_for()
    page.fill("#signin-email", email)
    page.locator("[data-signin-request] button[type=submit]").click()
    page.locator("[data-signin-status]").filter(has_text=f"We sent a link to {email}").wait_for()


def test_ask_chat_video_shared_bag_checkout_then_another_device(
    database_url: str,
    tmp_path: Path,
    factory: Factory,
    session: Session,
    chromium: Any,
    smtp: SmtpServer,
    relay: Relay,  # noqa: F811
) -> None:
    team = staff(factory, session)
    product = factory.product(team.brand, name="Petite Lune", stock=3, sizes=("S",))
    team.brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    session.add(team.brand)
    session.add(
        SavedReply(brand_id=team.brand.id or 0, title="Welcome", body="Hello, I am {associate}.")
    )
    session.commit()
    email = factory.user_of(team.anna).email
    slug, anna_id, product_id = team.brand.slug, team.anna.id, product.id
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    env = {
        "RELAY_URL": relay.url,
        "RELAY_INTERNAL_TOKEN": RELAY_TOKEN,
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
    }
    with WebServer(database_url, tmp_path, env=env, create_schema=False) as server:
        base = server.url
        online = staff_http(base, email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text
        associate = signed_in_page(chromium, base, email, "/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()

        # 1. The shopper asks from a product page; the console rings and shows it, no reload.
        shopper_context = chromium.new_context()
        shopper_context.route(
            "https://shop.example/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body="<p>Cart</p>"),
        )
        shopper = shopper_context.new_page()
        product_page = f"{base}/b/{slug}/products/{product_id}"
        shopper.goto(product_page)
        question = "Could you show me the Petite Lune?"
        associate.evaluate(WATCH_INBOX, question)
        shopper.fill("#ask-body", question)
        sent_at = shopper.evaluate("Date.now()")
        shopper.click("[data-ask-form] button[type=submit]")
        associate.locator("[data-inbox-notice]").filter(has_text=question).wait_for()
        associate.wait_for_function("() => window.__shownAt !== null")
        shown_after_ms = associate.evaluate("window.__shownAt") - sent_at
        print(f"question to the associate's screen: {shown_after_ms} ms")
        # A second is the target (the bench measures it); the test allows a loaded machine.
        assert shown_after_ms < 5000
        assert associate.evaluate("performance.getEntriesByType('navigation').length") == 1

        # 2. Anna takes it; a saved reply and a product card, the shopper sees both.
        associate.locator(".inbox-row").filter(has_text="Petite Lune").click()
        associate.click("[data-thread-accept]")
        shopper.locator("[data-ask-status]").filter(has_text="Anna").wait_for()
        associate.locator("[data-inbox-tools]").wait_for()
        associate.click("[data-tool=replies]")
        associate.locator("[data-reply-options] [role=option]").filter(has_text="Welcome").click()
        assert associate.input_value("#inbox-reply") == "Hello, I am Anna."
        associate.click("[data-thread-form] button[type=submit]")
        log = shopper.locator("[data-ask-log]")
        log.filter(has_text="Hello, I am Anna.").wait_for()
        associate.click("[data-tool=products]")
        associate.fill("#product-search", "Petite")
        associate.get_by_role("button", name="Send Petite Lune").click()
        card = log.locator(".thread-card").filter(has_text="Petite Lune")
        card.wait_for()
        card.locator("[data-shared-bag-add]").wait_for()  # "Add to bag" on the card

        # 3. "Show me on camera": one tap in the inbox and both are in the room.
        shopper.get_by_role("button", name="Show me on camera").click()
        request = associate.locator("[data-video-requests] li").filter(
            has_text="asks to be shown on camera"
        )
        request.get_by_role("button", name="Go on camera").click()
        associate.wait_for_url(re.compile(r"/console/consult/\d+$"), timeout=LONG)
        live_id = associate.url.rsplit("/", 1)[1]
        shopper.wait_for_url(f"{base}/consult/{live_id}", timeout=LONG)
        associate.wait_for_function(VIDEO_PLAYS, timeout=LONG)
        shopper.wait_for_function(VIDEO_PLAYS, timeout=LONG)

        # 4. The associate adds to the shared bag; the shopper sees it pushed and checks out.
        staff_bag = associate.locator("#consult-room [data-shared-bag][data-live]")
        staff_bag.wait_for()
        shopper_bag = shopper.locator("#consult-room [data-shared-bag][data-live]")
        shopper_bag.wait_for()
        staff_bag.locator("summary").click()
        staff_bag.locator("[data-shared-bag-search]").fill("Petite")
        staff_bag.locator("[data-shared-bag-results] [data-shared-bag-add]").first.click()
        staff_bag.locator(".shared-bag-line").filter(has_text="Petite Lune").wait_for()
        line = shopper_bag.locator(".shared-bag-line").filter(has_text="Petite Lune")
        line.wait_for()
        assert line.locator("[data-quantity]").inner_text() == "1"
        shopper_bag.locator("[data-shared-bag-status]").filter(
            has_text="Updated by Anna"
        ).wait_for()
        shopper_bag.get_by_role("button", name="Check out").click()
        shopper.wait_for_url(re.compile(r"^https://shop\.example/cart\?add="), timeout=LONG)
        assert "Cart" in shopper.content()
        staff_bag.locator(".empty").wait_for()  # the associate sees the bag gone to checkout
        associate.click("[data-end]")

        # 5. Another device: "Continue on another device" e-mails a link; the phone opens it.
        shopper.goto(product_page)
        shopper.locator("[data-ask][data-live]").wait_for()
        _ask_for_link(shopper, "camille@example.com")
        phone = chromium.new_context().new_page()
        _sign_in_from_mail(phone, _link(smtp, 1), base, slug)
        phone_log = phone.locator("[data-ask-log]")
        phone_log.filter(has_text=question).wait_for()
        phone_log.filter(has_text="Hello, I am Anna.").wait_for()
        phone_log.filter(has_text="The shopper sent the bag to checkout").wait_for()
        phone_log.filter(has_text="Signed in on another device").wait_for()

        # 6. Recognised on a third browser from the same (now confirmed) e-mail.
        laptop = chromium.new_context().new_page()
        laptop.goto(f"{base}/b/{slug}")
        _ask_for_link(laptop, "camille@example.com")
        _sign_in_from_mail(laptop, _link(smtp, 2), base, slug)
        laptop.locator("[data-ask-log]").filter(has_text=question).wait_for()
        # The link is spent: opened again it says so, and signs nobody in.
        again = chromium.new_context().new_page()
        again.goto(_link(smtp, 2))
        again.locator("[data-signin-problem]").filter(has_text="already been used").wait_for()
