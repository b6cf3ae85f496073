"""The bag page and the product page in real Chromium: a brand that sells outside live
sessions offers "add to bag" on its product pages; the bag page changes a quantity
(− / number / +) and removes a line (its stock goes back), and the total and count
follow. A brand that does not, offers no such form."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlmodel import select

from sessions.models import Variant
from tests.browser.conftest import (  # noqa: F401  (the fixtures, reused)
    PHONE,
    axe_violations,
    db_session,
    seed,
    web_only,
)
from tests.factories import Factory
from tests.servers import WebServer


@pytest.mark.browser
def test_add_from_the_product_page_then_remove_on_the_bag_page(
    seed: Factory,  # noqa: F811
    web_only: WebServer,  # noqa: F811
    chromium: Any,
) -> None:
    brand = seed.brand(name="Maison Aurèle")
    closed = seed.brand(bag_outside_live=False)
    lune = seed.product(brand, name="Le sac Lune", stock=3, price_minor=245000)
    other = seed.product(closed, name="Foulard")
    brand.bag_outside_live = True
    seed.session.add(brand)
    seed.session.commit()
    page_of = f"{web_only.url}/b/{closed.slug}/products/{other.id}"
    lune_id, slug = lune.id, brand.slug  # read once: the session must not hold SQLite later
    assert "data-product-add" not in requests.get(page_of, timeout=10).text

    page = chromium.new_context(**PHONE).new_page()
    page.goto(f"{web_only.url}/b/{slug}/products/{lune_id}")
    page.get_by_role("button", name="Add to bag").tap()
    page.get_by_text("Added to your bag.").wait_for()
    page.wait_for_function("document.querySelector('[data-bag-count]').textContent.trim() === '1'")
    seed.session.expire_all()  # read what the web node wrote
    variant = seed.session.exec(select(Variant).where(Variant.product_id == lune_id)).first()
    assert variant is not None and variant.stock == 2
    seed.session.commit()

    page.goto(f"{web_only.url}/b/{slug}/bag")
    assert "€2,450.00" in page.inner_text("[data-bag-total]")
    assert axe_violations(page) == []
    page.get_by_role("button", name="One more Le sac Lune").tap()  # − / number / +
    page.get_by_text("Quantity updated.").wait_for()
    page.wait_for_function("document.querySelector('[data-bag-count]').textContent.trim() === '2'")
    assert "€4,900.00" in page.inner_text("[data-bag-total]")
    assert page.input_value("[data-line-quantity]") == "2"
    box = page.get_by_role("button", name="One fewer Le sac Lune").bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44
    seed.session.expire_all()
    variant = seed.session.exec(select(Variant).where(Variant.product_id == lune_id)).first()
    assert variant is not None and variant.stock == 1
    seed.session.commit()
    page.get_by_role("button", name="Remove Le sac Lune").tap()
    page.get_by_text("Your bag is empty.").wait_for()
    assert page.inner_text("[data-bag-total]").strip() == "€0.00"
    assert page.inner_text("[data-bag-count]").strip() == "0"
    seed.session.expire_all()  # read what the web node wrote
    variant = seed.session.exec(select(Variant).where(Variant.product_id == lune_id)).first()
    assert variant is not None and variant.stock == 3  # the stock went back
    seed.session.commit()
    page.context.close()
