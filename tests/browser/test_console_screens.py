"""Real Chromium, several contexts: the console's screens for what had only an API.

- Transfer: a shopper talks now with Anna; Anna hands the consultation to Léa from the
  room; the shopper's page says "You are now with Léa" by push, Léa's day shows it
  without a reload, and she takes it over.
- Messages left: a shopper leaves one while the associate's page is open; it arrives by
  push, the associate answers, the page shows the result and the e-mail arrives (real
  SMTP server).
- Cancel with a message from the day, and a day off added on the hours page.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from sessions.clock import utcnow
from sessions.service import availability as av
from sessions.service.hours import at_store, do_set_weekly_hours
from tests.booking.conftest import SmtpServer, smtp  # noqa: F401  (the fixture)
from tests.browser.conftest import PHONE, sign_in
from tests.factories import Factory
from tests.rooms.live_clients import csrf_token
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def console(chromium: Any, base: str, email: str, path: str, **context: Any) -> Any:
    page = chromium.new_context(**context).new_page()
    sign_in(page, base, email, path)
    return page


def test_anna_hands_a_consultation_to_lea(web: WebServer, seed: Factory, chromium: Any) -> None:
    brand = seed.brand(name="Maison Aurèle")
    store = seed.store(brand)
    anna = seed.associate(brand, store, name="Anna")
    lea = seed.associate(brand, store, name="Léa")
    anna_email, lea_email = seed.user_of(anna).email, seed.user_of(lea).email
    slug = brand.slug
    base = web.url

    # Anna is on her day, online; nobody else is yet, so the shopper is offered to her.
    anna_page = console(chromium, base, anna_email, "/console/today")
    anna_page.locator("#today[data-live]").wait_for()
    anna_page.select_option("#status-select", "online")
    anna_page.locator("[data-note]").filter(has_text="You are online").wait_for()

    shopper = chromium.new_context(**PHONE).new_page()
    shopper.goto(f"{base}/b/{slug}/talk")
    shopper.click("[data-ask] button[type=submit]")  # a chat, in English
    anna_page.locator("[data-offers] button", has_text="Accept").click(timeout=10000)
    anna_page.wait_for_url(f"{base}/console/consult/*")
    consultation_id = int(anna_page.url.rsplit("/", 1)[1])
    shopper.wait_for_url(f"{base}/consult/{consultation_id}", timeout=15000)
    shopper.locator("[data-room-state]").filter(has_text="You are with Anna").wait_for()

    # Léa comes in: her day is open (its socket connected) and she is online.
    lea_page = console(chromium, base, lea_email, "/console/today", **PHONE)
    lea_page.locator("#today[data-live]").wait_for()
    lea_page.select_option("#status-select", "online")
    lea_page.locator("[data-note]").filter(has_text="You are online").wait_for()
    lea_page.locator("[data-consultations] .empty").wait_for()

    anna_page.click("[data-transfer] summary")
    hand = anna_page.locator("[data-colleagues] button", has_text="Hand to Léa")
    hand.wait_for()
    assert "0 of 3 conversations" in anna_page.locator("[data-colleagues]").inner_text()
    hand.click()
    anna_page.locator("[data-room-state]").filter(has_text="Handed to Léa").wait_for()

    # Pushed: the shopper's page and Léa's day change without a reload.
    shopper.locator("[data-room-state]").filter(has_text="You are now with Léa").wait_for(
        timeout=5000
    )
    row = lea_page.locator(f'[data-consultations] [data-consultation-id="{consultation_id}"]')
    row.wait_for(timeout=5000)
    lea_page.locator("[data-note]").filter(has_text="handed you a consultation").wait_for()
    row.locator("a", has_text="Open").click()
    lea_page.wait_for_url(f"{base}/console/consult/{consultation_id}")
    lea_page.locator("[data-room-state]").filter(has_text="Live with the shopper").wait_for()
    assert "Léa" in (shopper.locator("[data-room-state]").text_content() or "")


def test_a_message_left_arrives_and_is_answered(
    database_url: str,
    tmp_path: Path,
    seed: Factory,
    chromium: Any,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    brand = seed.brand(name="Maison Aurèle")
    anna = seed.associate(brand, seed.store(brand), name="Anna")
    email, slug = seed.user_of(anna).email, brand.slug
    env = {"SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)}
    with WebServer(database_url, tmp_path, env=env, create_schema=False) as server:
        base = server.url
        page = console(chromium, base, email, "/console/messages", **PHONE)
        page.locator("[data-messages-left][data-loaded][data-live]").wait_for()
        page.locator('[data-list="open"] .empty').wait_for()

        shopper = chromium.new_context().new_page()
        shopper.goto(f"{base}/b/{slug}/message")
        shopper.fill("#m-name", "Iris")
        shopper.fill("#m-email", "iris@example.com")
        shopper.fill("#m-body", "Does the Petite Lune come in sky blue?")
        shopper.click("form button[type=submit]")
        shopper.get_by_text("An associate will answer by e-mail").wait_for()

        # Pushed: no reload.
        item = page.locator('[data-list="open"] .message', has_text="Petite Lune")
        item.wait_for(timeout=5000)
        page.locator("[data-messages-state]").filter(has_text="New message from Iris").wait_for()
        item.locator("textarea").fill("It does: sky blue, in every size.")
        item.locator("button[type=submit]").click()
        page.locator("[data-messages-state]").filter(
            has_text="the e-mail goes to iris@example.com"
        ).wait_for()
        done = page.locator('[data-list="answered"] .message', has_text="Petite Lune")
        assert "sky blue, in every size" in done.inner_text()
        assert page.locator('[data-list="open"] .empty').count() == 1

        mail = smtp.inbox.wait_for(1)[-1]
        assert "iris@example.com" in mail["To"]
        assert "sky blue, in every size" in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_cancel_with_a_message_and_a_day_off(
    database_url: str,
    tmp_path: Path,
    seed: Factory,
    chromium: Any,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    brand = seed.brand(name="Maison Aurèle")
    store = seed.store(brand, timezone="UTC")
    anna = seed.associate(brand, store, name="Anna")
    assert anna.id is not None and store.id is not None and brand.id is not None
    anna.min_notice_minutes = 0
    seed.session.add(anna)
    seed.session.commit()
    do_set_weekly_hours(
        seed.session,
        anna,
        at_store(store.id, [av.Span(d, time(0, 0), time(23, 55)) for d in range(7)]),
    )
    email = seed.user_of(anna).email
    env = {"SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)}
    with WebServer(database_url, tmp_path, env=env, create_schema=False) as server:
        base = server.url
        # Camille books the first free time within the associate's next 24 hours.
        camille = requests.Session()
        camille.headers["X-CSRFToken"] = csrf_token(camille, base)
        slots = camille.get(
            f"{base}/api/brands/{brand.id}/availability", params={"days": 1}, timeout=10
        ).json()
        soon = [
            s
            for s in slots
            if datetime.fromisoformat(s["starts_at"]) < utcnow() + timedelta(hours=20)
        ]
        assert soon, slots
        booked = camille.post(
            f"{base}/api/brands/{brand.id}/appointments",
            json={
                "associate_id": anna.id,
                "store_id": store.id,
                "starts_at": soon[0]["starts_at"],
                "name": "Camille",
                "email": "camille@example.com",
            },
            timeout=10,
        )
        assert booked.status_code == 201, booked.text
        appointment_id = booked.json()["id"]
        smtp.inbox.wait_for(1)  # the confirmation

        page = console(chromium, base, email, "/console/today", **PHONE)
        item = page.locator(f'[data-appointment-id="{appointment_id}"]')
        item.locator("button", has_text="Cancel…").click()
        page.fill(
            f"#cancel-{appointment_id}", "I am unwell today, sorry. Please book another time."
        )
        item.locator("button[type=submit]").click()
        page.locator("[data-note]").filter(has_text="Camille gets your message").wait_for()
        item.filter(has_text="cancelled").wait_for()
        assert item.locator("button", has_text="Cancel…").count() == 0
        mails = smtp.inbox.wait_for(2)  # the booking's confirmation, then the cancellation
        assert any(
            "I am unwell today" in (m.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
            for m in mails
        )

        page.goto(f"{base}/console/hours")
        page.locator("[data-hours][data-loaded]").wait_for()
        assert "No exceptions coming up" in page.inner_text("[data-exceptions-state]")
        day = (date.today() + timedelta(days=10)).isoformat()
        page.fill("#exception-day", day)
        page.fill("#exception-reason", "Inventory")
        page.click("[data-exception-form] button[type=submit]")
        page.locator("[data-exceptions-state]").filter(has_text="day off").wait_for()
        row = page.locator("[data-exceptions] .exception", has_text="Inventory")
        assert "Day off" in row.inner_text()
        row.locator("button", has_text="Remove").click()
        page.locator("[data-exceptions-state]").filter(
            has_text="follows the weekly hours"
        ).wait_for()
        assert page.locator("[data-exceptions] .exception").count() == 0
