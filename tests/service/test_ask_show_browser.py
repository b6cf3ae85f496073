"""Real Chromium: "Ask an associate" from a show on a phone (a sheet under the video, never
over it) and from the embed on another site (no cookie: the embed's token is the shopper);
the associate's inbox says which show each question comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sessions.embedding import do_set_embed_origins
from tests.booking.conftest import staff
from tests.browser.conftest import PHONE, other_origin  # noqa: F401  (fixture)
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer
from tests.service.test_ask_browser import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Where the sheet is, against the video stage, in the viewport: does it cover the video?
GEOMETRY = """() => {
  const stage = document.querySelector('.stage').getBoundingClientRect();
  const input = document.querySelector('#ask-body').getBoundingClientRect();
  const x = stage.left + stage.width / 2, y = stage.top + stage.height / 2;
  const onTop = document.elementFromPoint(x, y);
  return {
    stageVisible: stage.bottom > 0 && stage.top < innerHeight,
    stageOnTop: Boolean(onTop && onTop.closest('.stage')),
    inputBelowStage: input.top >= stage.bottom - 1,
    inputInView: input.bottom <= innerHeight && input.top >= 0,
  };
}"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Maison — journal</title></head>
<body><h1>Our journal</h1><div data-vitrine-show="{show_id}"></div>
<script src="{base}/embed.js" async></script></body></html>
"""


def test_ask_from_a_show_on_a_phone_opens_a_sheet_under_the_video(
    database_url: str, tmp_path: Path, factory: Factory, session: Session, chromium: Any
) -> None:
    team = staff(factory, session)
    show = factory.show(team.brand, title="Silk, live")
    email = factory.user_of(team.anna).email
    slug, anna_id, show_id = team.brand.slug, team.anna.id, show.id
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        base = server.url
        online = staff_http(base, email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text
        associate = signed_in_page(chromium, base, email, "/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()

        phone = chromium.new_context(**PHONE).new_page()
        phone.goto(f"{base}/b/{slug}/shows/{show_id}")
        sheet = phone.locator("[data-ask-sheet]")
        assert sheet.is_hidden()  # a button, not a panel over the show
        opener = phone.get_by_role("button", name="Ask an associate")
        opener.click()
        sheet.wait_for(state="visible")
        assert opener.get_attribute("aria-expanded") == "true"
        phone.locator("#ask-body").scroll_into_view_if_needed()
        where = phone.evaluate(GEOMETRY)
        assert where == {
            "stageVisible": True,
            "stageOnTop": True,
            "inputBelowStage": True,
            "inputInView": True,
        }, where

        phone.fill("#ask-body", "Is the scarf the host wears silk?")
        phone.click("[data-ask-form] button[type=submit]")
        phone.locator("[data-ask-log]").filter(has_text="scarf the host wears").wait_for()
        assert phone.evaluate(GEOMETRY)["stageOnTop"]

        row = associate.locator(".inbox-row").filter(has_text="scarf the host wears")
        row.click()
        context = associate.locator("[data-thread-log] .thread-context")
        context.filter(has_text="Asked during the show “Silk, live”").wait_for()


def test_ask_from_the_embed_on_another_site(
    database_url: str,
    tmp_path: Path,
    factory: Factory,
    session: Session,
    chromium: Any,
    other_origin: tuple[str, Path],  # noqa: F811
) -> None:
    team = staff(factory, session)
    show = factory.show(team.brand, title="Silk, live")
    email = factory.user_of(team.anna).email
    # "localhost" is another site than 127.0.0.1: the iframe gets no cookie at all.
    site_url, site_dir = other_origin
    site_url = site_url.replace("127.0.0.1", "localhost")
    do_set_embed_origins(session, team.brand, [site_url], allow_http=True)
    anna_id, show_id = team.anna.id, show.id
    session.commit()
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        base = server.url
        (site_dir / "index.html").write_text(PAGE.format(show_id=show_id, base=base))
        online = staff_http(base, email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text
        associate = signed_in_page(chromium, base, email, "/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()

        page = chromium.new_context(**PHONE).new_page()
        page.goto(f"{site_url}/index.html")
        iframe = page.wait_for_selector("iframe[src*='/embed/shows/']")
        assert iframe is not None
        frame = iframe.content_frame()
        assert frame is not None
        frame.wait_for_url("**/embed/shows/**")
        frame.get_by_role("button", name="Ask an associate").click()
        frame.fill("#ask-body", "Which size is the host wearing?")
        frame.click("[data-ask-form] button[type=submit]")
        frame.locator("[data-ask-log]").filter(has_text="size is the host").wait_for()
        assert page.context.cookies(base) == []  # the token, not a cookie, is the shopper

        associate.locator(".inbox-row").filter(has_text="size is the host").click()
        associate.locator("[data-thread-log] .thread-context").filter(
            has_text="Silk, live"
        ).wait_for()
        associate.click("[data-thread-accept]")
        frame.locator("[data-ask-status]").filter(has_text="Anna").wait_for()  # pushed
        associate.fill("#inbox-reply", "A medium.")
        associate.click("[data-thread-form] button[type=submit]")
        frame.locator("[data-ask-log]").filter(has_text="A medium.").wait_for()
