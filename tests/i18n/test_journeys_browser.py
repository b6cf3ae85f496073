"""The show and bag journeys in French and in Simplified Chinese, in real Chromium on a
phone: watch a live show (relay, synthetic camera), chat, add the pinned piece to the bag,
the bag page, checkout. Asserted: the page's language (html lang, the words), prices and
dates as CLDR writes them in that locale, the brand's product name in that language, the
choice remembered across pages, axe clean, no sideways scroll at 360 px.

French comes from the header's switch (a cookie); Chinese from the browser's
Accept-Language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sessions.brand_texts import do_set_texts
from sessions.clock import utcnow
from tests.browser.conftest import (  # noqa: F401  (the fixtures, reused)
    PHONE,
    axe_violations,
    db_session,
    relay,
    seed,
    synthetic_camera,
    take_screenshots,
    web,
)
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import ROOT, WebServer

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
IMAGES = ROOT / "docs" / "img"
FRENCH_DATE = re.compile(
    r"\d{1,2} (janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.)"
    r".* \d{2}:\d{2}"
)
CHINESE_DATE = re.compile(r"\d{1,2}月\d{1,2}日.*\d{1,2}:\d{2}")

pytestmark = [pytest.mark.browser, pytest.mark.media]


def live_show(
    factory: Factory, server: WebServer, camera: Any, currency: str, names: dict[str, str]
) -> dict[str, str]:
    """A brand with a live show, its host's picture, one pinned piece named per language."""
    brand = factory.brand(name="Maison Aurèle", currency=currency)
    brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    factory.session.add(brand)
    host = factory.associate(brand)
    lune = factory.product(
        brand, name="The Lune bag", sizes=("S", "M"), stock=4, price_minor=125000
    )
    show = factory.show(brand, title="The autumn edit", starts_at=utcnow(), allow_past=True,
                     host_ids=[host.id])  # fmt: skip
    live = factory.live_session(show)
    assert brand.id and lune.id and show.id
    for lang, name in names.items():
        do_set_texts(factory.session, brand.id, "product", lune.id, {("name", lang): name})
    factory.session.commit()
    http = staff_http(server.url, factory.user_of(host).email)
    assert http.post(f"{server.url}/api/shows/{show.id}/start", timeout=10).ok
    camera(live.room)
    pinned = http.post(
        f"{server.url}/api/live-sessions/{live.id}/pins", json={"product_id": lune.id}, timeout=10
    )
    assert pinned.status_code == 201
    return {"slug": brand.slug, "show": f"{server.url}/b/{brand.slug}/shows/{show.id}"}


def watch_chat_and_add(page: Any, words: dict[str, str]) -> None:
    page.wait_for_selector("#state-badge[data-state='live']", timeout=40_000)
    assert page.text_content("#state-badge") == words["live"]
    page.get_by_label(words["message"], exact=True).fill(words["said"])
    page.get_by_role("button", name=words["send"], exact=True).tap()
    page.locator("#messages").get_by_text(words["said"]).wait_for()
    card = page.locator(".player-side .product-card[data-product-id]").first
    card.wait_for()
    assert words["price"] in card.locator(".price").inner_text()
    card.get_by_role("button", name=words["shop"]).tap()
    sheet = page.locator("#sheet")
    sheet.wait_for(state="visible")
    sheet.get_by_label(words["size"]).select_option(label=words["option"])
    sheet.get_by_role("button", name=words["add"]).tap()
    page.wait_for_function("document.querySelector('[data-bag-count]').textContent.trim() === '1'")
    sheet.get_by_text(words["added"]).wait_for()
    sheet.locator("[data-bag-lines]").get_by_text(words["name"]).wait_for()  # its own name
    assert axe_violations(page) == []


def bag_and_checkout(page: Any, base: str, slug: str, words: dict[str, str]) -> None:
    page.goto(f"{base}/b/{slug}/bag")
    assert page.get_attribute("html", "lang") == words["lang"]  # remembered
    page.get_by_role("heading", name=words["bag"]).wait_for()
    assert words["price"] in page.inner_text("[data-bag-total]")
    page.get_by_text(words["name"]).first.wait_for()
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_function(NO_OVERFLOW)
    # Checkout hands the bag to the brand's own shop (a redirect away from Vitrine).
    with page.expect_response(lambda r: f"/checkout/{slug}" in r.url) as handed:
        page.get_by_role("button", name=words["checkout"]).tap()
    assert handed.value.status in (302, 303)
    assert handed.value.headers["location"].startswith("https://shop.example/cart?add=")


def test_french_through_the_switch(
    seed: Factory,  # noqa: F811
    web: WebServer,  # noqa: F811
    synthetic_camera: Any,  # noqa: F811
    chromium: Any,
) -> None:
    made = live_show(seed, web, synthetic_camera, "EUR", {"fr": "Le sac Lune"})
    context = chromium.new_context(**PHONE, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{web.url}/b/{made['slug']}")
        assert page.get_attribute("html", "lang") == "en"
        page.get_by_label("Language").select_option("fr")
        with page.expect_navigation():  # POST /lang, then back to this page
            page.get_by_role("button", name="Change language").tap()
        assert page.url == f"{web.url}/b/{made['slug']}"
        assert page.get_attribute("html", "lang") == "fr"
        page.get_by_role("link", name="Réserver un rendez-vous").wait_for()
        assert page.locator("#lang-select").input_value() == "fr"  # the current one shown
        # The start time as French writes it, in the reader's zone (countdown.js).
        assert FRENCH_DATE.search(page.text_content("time[data-local-time]") or ""), (
            page.inner_text("time[data-local-time]")
        )
        assert axe_violations(page) == []

        page.goto(made["show"])
        assert page.get_attribute("html", "lang") == "fr"  # remembered across pages
        watch_chat_and_add(
            page,
            {
                "live": "En direct",
                "message": "Message",
                "said": "Existe-t-il en bordeaux ?",
                "send": "Envoyer",
                "price": "1\u202f250,00\xa0€",
                "shop": "Acheter Le sac Lune",
                "size": "Taille / couleur",
                "option": "S · Black — plus que 4",
                "add": "Ajouter au panier",
                "added": "Ajouté à votre panier.",
                "name": "Le sac Lune",
            },
        )
        if take_images():
            IMAGES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(IMAGES / "languages-fr-show.png"))
        bag_and_checkout(
            page,
            web.url,
            made["slug"],
            {
                "lang": "fr",
                "bag": "Votre panier",
                "price": "1\u202f250,00\xa0€",
                "name": "Le sac Lune",
                "checkout": "Poursuivre vers le paiement",
            },
        )
    finally:
        context.close()


def test_chinese_from_accept_language(
    seed: Factory,  # noqa: F811
    web: WebServer,  # noqa: F811
    synthetic_camera: Any,  # noqa: F811
    chromium: Any,
) -> None:
    made = live_show(seed, web, synthetic_camera, "CNY", {"zh_Hans": "月亮包"})
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{web.url}/b/{made['slug']}")
        assert page.get_attribute("html", "lang") == "zh-Hans"
        page.get_by_role("link", name="预约咨询").wait_for()
        assert page.locator("#lang-select").input_value() == "zh_Hans"
        assert CHINESE_DATE.search(page.text_content("time[data-local-time]") or ""), (
            page.inner_text("time[data-local-time]")
        )
        assert axe_violations(page) == []
        page.goto(made["show"])
        assert page.get_attribute("html", "lang") == "zh-Hans"
        watch_chat_and_add(
            page,
            {
                "live": "直播中",
                "message": "消息",
                "said": "有酒红色吗？",
                "send": "发送",
                "price": "¥1,250.00",
                "shop": "选购 月亮包",
                "size": "尺码 / 颜色",
                "option": "S · Black — 仅剩 4 件",
                "add": "加入购物袋",
                "added": "已加入您的购物袋。",
                "name": "月亮包",
            },
        )
        if take_images():
            page.screenshot(path=str(IMAGES / "languages-zh-show.png"))
        bag_and_checkout(
            page,
            web.url,
            made["slug"],
            {
                "lang": "zh-Hans",
                "bag": "您的购物袋",
                "price": "¥1,250.00",
                "name": "月亮包",
                "checkout": "前往结账",
            },
        )
    finally:
        context.close()


def take_images() -> bool:
    """docs/img/ is rewritten only on request (VITRINE_SCREENSHOTS=1)."""
    return take_screenshots()
