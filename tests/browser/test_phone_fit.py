"""Phone-first: every shopper page at 360×740 scrolls only up and down, and its main
controls are at least 44 px tall. The pages are listed from the URL map, so a new
shopper page without a row here fails this test."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.models import Appointment, SignInLink, WaitlistHold
from sessions.service import appointments
from sessions.service.signin import link_token
from sessions.shows.private import do_set_show_private
from sessions.shows.reminders import unsubscribe_token
from tests.booking.conftest import staff
from tests.factories import OPERATOR, Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SMALL_PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
SECRET = "test-secret-key"  # tests/servers.py gives the web node this one
# Not pages: files, calendar files and redirects.
NOT_PAGES = {
    "shop.embed_script",
    "shop.show_ics",
    "shop.export_data",
    "service.invite",
    "service.join",
    "service.enter_room",
    "shop.show_captions",  # a WebVTT file
    # A personal link's page needs its token (tests/shows/test_invitees.py): the show's layout.
    "shop.invitation_page",
}
# What a phone's thumb presses: buttons, fields, the header's links and button-like links.
CONTROLS = (
    "button:not([disabled]), a.button, .site-header nav a, select, textarea,"
    " input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
)
SMALL_CONTROLS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .filter((e) => !e.closest('[hidden], .visually-hidden, .skip-link'))
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.height < 44 || r.width < 44)
  .map(([e, r]) => `${e.tagName.toLowerCase()}${e.className ? '.' + e.className : ''}`
       + ` "${(e.getAttribute('aria-label') || e.textContent || e.name || '').trim().slice(0, 30)}"`
       + ` ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def shopper_endpoints(app: Flask) -> set[str]:
    """The shopper's HTML pages: the shop's and the service desk's GET routes outside the
    staff console."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and rule.endpoint.split(".")[0] in {"shop", "service"}
        and not rule.rule.startswith("/console")
        and rule.endpoint not in NOT_PAGES
    }


def world(factory: Factory, session: Session) -> dict[str, list[str]]:
    """One of each page, with what it needs; endpoint → paths (a page may have states)."""
    team = staff(factory, session, specialities="Leather goods")
    brand, slug = team.brand, team.brand.slug
    assert brand.id is not None
    product = factory.product(brand, name="Sac Aurèle en cuir grainé", sizes=("S", "M"))
    show = factory.show(
        brand, title="Les nouveautés de la saison, en direct de Paris", product_ids=[product.id]
    )
    private = factory.show(brand, title="Private preview")
    do_set_show_private(session, OPERATOR, private, "SECRET-CODE")
    from sessions.models import ShowReminder

    reminder = ShowReminder(show_id=show.id or 0, email="reminded@example.com")
    session.add(reminder)
    now = utcnow()
    slots = appointments.find_slots(session, brand.id, start=now, end=now + timedelta(days=3))
    kwargs: dict[str, Any] = {
        "brand_id": brand.id,
        "associate_id": team.anna.id,
        "store_id": team.store.id,
        "email": "c@example.com",
    }
    first = appointments.do_book(
        session, starts_at=slots[0].starts_at, shopper_id=factory.shopper().id, name="A", **kwargs
    )
    second = appointments.do_book(
        session, starts_at=slots[6].starts_at, shopper_id=factory.shopper().id, name="B", **kwargs
    )
    appointments.do_join_waitlist(session, second)
    appointments.do_cancel(session, first, by="shopper")
    hold = session.exec(select(WaitlistHold)).first()
    assert hold is not None
    token = appointments.manage_token(SECRET, second)
    consultation = appointments.consultation_of(session, second)
    assert consultation is not None
    link = SignInLink(
        brand_id=brand.id,
        shopper_id=second.shopper_id,
        email="back@example.com",
        expires_at=now + timedelta(minutes=30),
    )
    session.add(link)
    session.commit()
    return {
        "shop.brand_home": [f"/b/{slug}"],
        "shop.product": [f"/b/{slug}/products/{product.id}"],
        "shop.bag": [f"/b/{slug}/bag"],
        "shop.your_data": [f"/b/{slug}/your-data"],
        "shop.show": [f"/b/{slug}/shows/{show.id}", f"/b/{slug}/shows/{private.id}"],
        "shop.embed_show": [f"/embed/shows/{show.id}"],
        "shop.unsubscribe_page": [f"/show-reminders/{unsubscribe_token(SECRET, reminder)}"],
        "service.book": [
            f"/b/{slug}/book",
            f"/b/{slug}/book?lang=fr",
            f"/b/{slug}/book?lang=zh_Hans",
        ],
        "service.talk": [f"/b/{slug}/talk"],
        "service.message": [f"/b/{slug}/message"],
        "service.manage": [f"/appointments/{token}"],
        "service.hold": [f"/appointments/{token}/hold/{hold.id}"],
        # The shopper's own: the join link (above, not a page) makes this browser theirs.
        "service.room": [f"/appointments/{token}/join"],
        "service.rate": [f"/b/{slug}/rate/{consultation.id}"],
        "service.signin_link": [f"/signin/{link_token(SECRET, link)}"],
    }


def test_every_shopper_page_fits_a_small_phone(
    app: Flask,
    database_url: str,
    tmp_path: Any,
    factory: Factory,
    session: Session,
    chromium: Any,
) -> None:
    pages = world(factory, session)
    assert set(pages) == shopper_endpoints(app), "add the new shopper page to this test"
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        context = chromium.new_context(**SMALL_PHONE)
        page = context.new_page()
        too_wide: dict[str, int] = {}
        too_small: dict[str, list[str]] = {}
        for paths in pages.values():
            for path in paths:
                response = page.goto(f"{server.url}{path}")
                # A private show answers its code form with a 403: still a page to fit.
                assert response is not None and response.status < 500, path
                page.wait_for_load_state("networkidle")
                width = page.evaluate("document.scrollingElement.scrollWidth")
                if width > 360:
                    too_wide[path] = width
                if small := page.evaluate(SMALL_CONTROLS, CONTROLS):
                    too_small[path] = small
        context.close()
    assert too_wide == {}
    assert too_small == {}, "\n".join(f"{k}: {v}" for k, v in too_small.items())


def test_the_bags_checkout_is_in_thumb_reach(
    database_url: str, tmp_path: Any, factory: Factory, session: Session, chromium: Any
) -> None:
    brand = factory.brand()
    product = factory.product(brand, name="Carré", sizes=("90",))
    variant = factory.variants(product)[0]
    session.commit()
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        context = chromium.new_context(**SMALL_PHONE)
        page = context.new_page()
        page.goto(f"{server.url}/b/{brand.slug}/products/{product.id}")
        token = page.locator("meta[name=csrf-token]").get_attribute("content")
        added = page.request.post(
            f"{server.url}/api/bag/lines",
            data={"variant_id": variant.id, "quantity": 1},
            headers={"X-CSRFToken": token or ""},
        )
        assert added.status == 201, added.text()
        page.goto(f"{server.url}/b/{brand.slug}/bag")
        checkout = page.get_by_role("button", name=re.compile("checkout", re.I))
        box = checkout.bounding_box()
        assert box is not None
        # At the bottom of the screen, full width: where a thumb rests.
        assert box["y"] + box["height"] > 740 * 0.85 and box["width"] > 300
        assert box["height"] >= 44
        context.close()
    session.expire_all()
    assert session.exec(select(Appointment)).all() == []
    session.commit()
