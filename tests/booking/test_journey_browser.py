"""The whole journey in real Chromium: book, get the e-mail, open its join link, be let in,
and see each other's camera through the real relay."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.booking.conftest import SmtpServer, staff
from tests.factories import Factory
from tests.servers import RelayServer, WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIDEO_PLAYS = """() => {
  const v = document.querySelector('video[data-remote]');
  return v && v.videoWidth > 0 && v.readyState >= 2;
}"""


@pytest.fixture
def relay_url(tmp_path: Path) -> Iterator[str]:
    with RelayServer(tmp_path / "media", env={"RELAY_ALLOWED_ORIGINS": "*"}) as relay:
        yield relay.url


def test_book_mail_join_and_meet_with_video_both_ways(
    database_url: str,
    tmp_path: Path,
    factory: Factory,
    session: Session,
    smtp: SmtpServer,
    relay_url: str,
    chromium: object,
) -> None:
    team = staff(factory, session)
    associate_email = factory.user_of(team.anna).email
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    env = {"SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port), "RELAY_URL": relay_url}
    with WebServer(database_url, tmp_path, env=env, create_schema=False) as server:
        # The shopper books the first free time.
        booking_ctx = chromium.new_context(timezone_id="America/New_York")  # type: ignore[attr-defined]
        page = booking_ctx.new_page()
        page.goto(f"{server.url}/b/{team.brand.slug}/book")
        page.locator("input[name=slot]").first.check()
        page.fill("#f-name", "Camille")
        page.fill("#f-email", "camille@example.com")
        page.click("#book-form button[type=submit]")
        page.wait_for_url(re.compile(r"/appointments/[^/]+\?booked=1$"))
        assert "America/New_York" in page.content()

        # The confirmation reaches the real SMTP server; its join link is the key.
        mail = smtp.inbox.wait_for(1)[0]
        text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        join = re.search(r"Join at the time: (\S+)", text)
        assert join and join.group(1).startswith(server.url)
        assert any(p.get_content_type() == "text/calendar" for p in mail.iter_attachments())

        # On another device (no cookie), the link opens the waiting screen.
        shopper = chromium.new_context().new_page()  # type: ignore[attr-defined]
        shopper.goto(join.group(1))
        shopper.wait_for_url(re.compile(r"/consult/\d+$"))
        live_id = shopper.url.rsplit("/", 1)[1]
        state = shopper.locator("[data-room-state]")
        state.filter(has_text="to let you in").wait_for()

        # The associate signs in, sees the shopper waiting, lets them in.
        associate = chromium.new_context().new_page()  # type: ignore[attr-defined]
        associate.goto(f"{server.url}/login?next=/console/consult/{live_id}")
        associate.fill("input[name=email]", associate_email)
        associate.fill("input[name=password]", Factory.PASSWORD)
        associate.click("button[type=submit]")
        associate.wait_for_url(re.compile(rf"/console/consult/{live_id}$"))
        admit = associate.locator("[data-admit]")
        admit.wait_for(state="visible")
        admit.click()

        # Both see the other's camera through the relay.
        shopper.locator("[data-room-state]").filter(has_text="You are with Anna").wait_for()
        associate.wait_for_function(VIDEO_PLAYS, timeout=45000)
        shopper.wait_for_function(VIDEO_PLAYS, timeout=45000)
        assert shopper.locator("#consult-room").get_attribute("data-publish") == "live"
        assert associate.locator("#consult-room").get_attribute("data-publish") == "live"

        # The room's chat works both ways (live-room.js over Socket.IO).
        shopper.fill("#chat-body", "Is it a true sky blue?")
        shopper.press("#chat-body", "Enter")
        associate.locator("[data-chat]").filter(has_text="Is it a true sky blue?").wait_for()
        associate.fill("#chat-body", "It is, let me show you.")
        associate.press("#chat-body", "Enter")
        shopper.locator("[data-chat]").filter(has_text="let me show you").wait_for()
