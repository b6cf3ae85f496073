"""Real Chromium, in French and in Simplified Chinese: an associate's console (the inbox
and a chat with a shopper, pushed) and the brand admin's analytics, in the language the
browser asks for (Accept-Language). The pages' words, the scripts' words (given by the
page), `<html lang>`, and dates and figures as the locale writes them, in the store's
time zone; then the associate picks English in My settings and the console follows. axe
finds nothing serious on any of these pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_time
from babel.numbers import format_percent
from sqlmodel import Session

from sessions.clock import utcnow
from tests.analytics.seed import seed_show
from tests.browser.conftest import DESKTOP, SCREENSHOTS, axe_violations, take_screenshots
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# language, the browser's locale, the store's zone, and words each page must show.
CASES = {
    "fr": {
        "locale": "fr-FR",
        "zone": "Europe/Paris",
        "html_lang": "fr",
        "inbox": "Boîte de réception",
        "waiting_tab": "En attente",
        "new_question": "Nouvelle question de",
        "with_anna": "Avec Anna.",
        "asked_about": "Question au sujet de",
        "live_shows": "Émissions en direct",
        "analytics": "Statistiques",
        "revenue_by_show": "Chiffre d’affaires par live",
    },
    "zh_Hans": {
        "locale": "zh-CN",
        "zone": "Asia/Shanghai",
        "html_lang": "zh-Hans",
        "inbox": "收件箱",
        "waiting_tab": "等待中",
        "new_question": "提出新问题",
        "with_anna": "由 Anna 接待。",
        "asked_about": "咨询单品：",
        "live_shows": "直播",
        "analytics": "数据分析",
        "revenue_by_show": "各场直播收入",
    },
}


def signed_in(chromium: Any, base: str, email: str, path: str, locale: str) -> Any:
    """A staff member's page in a browser that asks for `locale` (the sign-in page is in
    that language too, so the form is found by its fields, not its words)."""
    page = chromium.new_context(**DESKTOP, locale=locale).new_page()
    page.goto(f"{base}/login?next={path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", Factory.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")
    return page


@pytest.mark.parametrize("language", list(CASES))
def test_the_console_and_the_brand_admin_in_the_staff_language(
    language: str,
    database_url: str,
    tmp_path: Path,
    factory: Factory,
    session: Session,
    chromium: Any,
) -> None:
    case = CASES[language]
    zone = ZoneInfo(case["zone"])
    brand = factory.brand(name="Maison Aurèle")
    store = factory.store(brand, timezone=case["zone"])
    anna = factory.associate(brand, store, name="Anna", languages="en,fr")
    product = factory.product(brand, name="Carré")
    starts = (utcnow() + timedelta(days=2)).replace(hour=17, minute=30, second=0, microsecond=0)
    factory.show(brand, title="Soie d’hiver", starts_at=starts)  # scheduled
    yesterday = (utcnow() - timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
    seed_show(session, factory, brand, yesterday)  # 3 viewers, 1 buyer
    anna_email, admin_email = factory.user_of(anna).email, factory.admin(brand).email
    slug, anna_id, product_id = brand.slug, anna.id, product.id
    session.commit()  # end the read: on SQLite an open transaction holds the write lock

    with WebServer(database_url, tmp_path, create_schema=False) as server:
        base = server.url
        online = staff_http(base, anna_email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text

        # The inbox: the page's words, <html lang>, and the script's words as pushed.
        console = signed_in(chromium, base, anna_email, "/console/inbox", case["locale"])
        console.locator("[data-inbox][data-live]").wait_for()
        assert console.get_attribute("html", "lang") == case["html_lang"]
        assert console.locator("h1").inner_text() == case["inbox"]
        assert case["waiting_tab"] in (console.locator("[data-tab=waiting]").text_content() or "")

        shopper = chromium.new_context().new_page()  # an English-speaking shopper
        shopper.goto(f"{base}/b/{slug}/products/{product_id}")
        shopper.fill("#ask-body", "Is the Carré a true sky blue?")
        shopper.click("[data-ask-form] button[type=submit]")
        notice = console.locator("[data-inbox-notice]")
        notice.filter(has_text=case["new_question"]).wait_for()
        assert "sky blue" in notice.inner_text()

        console.locator("[data-inbox-list] .inbox-row").filter(has_text="sky blue").click()
        console.click("[data-thread-accept]")
        console.locator("[data-thread-status]").filter(has_text=case["with_anna"]).wait_for()
        shopper.locator("[data-ask-status]").filter(has_text="Anna").wait_for()
        # The thread's own words (a module shared with the shopper's chat) follow too.
        about = console.locator("[data-thread-log] .thread-about")
        about.filter(has_text=case["asked_about"]).wait_for()
        console.fill("#inbox-reply", "Oui, un vrai bleu ciel.")
        console.click("[data-thread-form] button[type=submit]")
        shopper.locator("[data-ask-log]").filter(has_text="un vrai bleu ciel").wait_for()
        assert axe_violations(console) == []
        if take_screenshots():
            console.screenshot(path=str(SCREENSHOTS / f"console-inbox-{language}.png"))

        # The console's shows: the start in the staff locale and the store's zone.
        console.goto(f"{base}/console/")
        assert console.locator("h1").inner_text() == case["live_shows"]
        shown = console.locator("time[data-starts]").first.inner_text()
        local = starts.astimezone(zone)
        assert format_date(local, "medium", locale=language) in shown, shown
        assert format_time(local, "short", locale=language) in shown, shown
        assert axe_violations(console) == []

        # My settings: the associate chooses English; the console follows at once.
        console.goto(f"{base}/console/settings")
        assert axe_violations(console) == []
        console.select_option("#language", "en")
        console.click("main form button[type=submit]")
        console.locator(".flashes").filter(has_text="Your console is now in English.").wait_for()
        assert console.get_attribute("html", "lang") == "en"

        # The brand admin's analytics: words, a chart drawn, a figure and a date by locale.
        admin = signed_in(chromium, base, admin_email, "/admin/analytics", case["locale"])
        assert admin.get_attribute("html", "lang") == case["html_lang"]
        assert admin.locator("h1").inner_text() == case["analytics"]
        assert admin.locator("#revenue-chart-title").inner_text() == case["revenue_by_show"]
        admin.wait_for_selector("canvas#revenue-chart[data-rendered='true']")
        show_row = admin.locator("table#shows tbody tr").first
        started_cell = show_row.locator("td").first.inner_text()
        local = yesterday.astimezone(zone)
        assert format_date(local, "short", locale=language) in started_cell, started_cell
        assert format_time(local, "short", locale=language) in started_cell, started_cell
        # Conversion, one buyer of three viewers: "33,3 %" in French, "33.3%" in Chinese.
        conversion = show_row.locator("td").last.inner_text()
        assert conversion == format_percent(1 / 3, "#,##0.0%", locale=language)
        assert axe_violations(admin) == []
