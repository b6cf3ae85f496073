"""The staff accounts' pages in Chromium on a 360-px phone: accept an invitation, ask for a
reset, turn on two-factor (the QR code drawn server-side, a real pyotp code) and sign in
with a code; each page axe clean (no serious or critical violation), no sideways scroll,
no CSP violation (the chromium fixture fails on one)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlmodel import Session

from sessions.accounts import invitations
from sessions.clock import utcnow
from sessions.models import Role
from tests.browser.conftest import axe_violations
from tests.factories import OPERATOR, Factory
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
PASSWORD = "a sentence to remember"


def _checked(page: Any, failures: dict[str, Any]) -> None:
    if found := axe_violations(page):
        failures[page.url] = found
    if not page.evaluate(NO_OVERFLOW):
        failures[page.url + " (overflow)"] = True


def test_invitation_reset_and_two_factor_on_a_phone(
    web_only: WebServer, seed: Factory, db_session: Session, chromium: Any
) -> None:
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    invitation = invitations.do_invite(
        db_session,
        OPERATOR,
        brand_id=brand.id or 0,
        email="new.admin@example.com",
        name="Noor",
        role=Role.BRAND_ADMIN,
        secret="test-secret-key",
    )
    path = invitations.path_of("test-secret-key", invitation)
    base = web_only.url
    failures: dict[str, Any] = {}
    page = chromium.new_context(**PHONE).new_page()

    page.goto(f"{base}/password/forgot")
    _checked(page, failures)
    page.get_by_label("E-mail").fill("someone@example.com")
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_selector("[data-reset-sent]")
    _checked(page, failures)

    page.goto(f"{base}{path}")
    _checked(page, failures)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.wait_for_url(f"{base}/admin/**")

    page.goto(f"{base}/account/two-factor")
    _checked(page, failures)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.wait_for_selector("[data-two-factor=enrolling] svg")
    _checked(page, failures)
    # The key the page shows for typing in by hand, as an authenticator app would take it.
    secret = page.locator("figcaption code").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_selector("[data-recovery-codes]")
    _checked(page, failures)

    other = chromium.new_context(**PHONE).new_page()
    other.goto(f"{base}/login")
    other.get_by_label("E-mail").fill("new.admin@example.com")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url(f"{base}/login/code")
    _checked(other, failures)
    other.get_by_label("Code").fill(pyotp.TOTP(secret).at(_later(30)))
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url(f"{base}/admin/**")
    assert failures == {}, failures


def _later(seconds: int) -> datetime:
    return utcnow() + timedelta(seconds=seconds)
