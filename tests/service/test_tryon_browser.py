"""Real Chromium: "Try it on for me" from a product page. The size a boutique has goes to
that boutique's associate, whose inbox rings with the piece, the size and the shelf stock;
a size no boutique has is said plainly, with the nearest one a boutique has, in one tap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sessions.access import Actor, ActorKind
from sessions.service import tryon
from tests.booking.conftest import staff
from tests.factories import Factory
from tests.rooms.live_clients import staff_http
from tests.servers import WebServer
from tests.service.test_ask_browser import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_shopper_asks_for_a_try_on_and_the_boutique_that_has_it_is_rung(
    database_url: str, tmp_path: Path, factory: Factory, session: Session, chromium: Any
) -> None:
    team = staff(factory, session)
    product = factory.product(team.brand, name="Petite Lune", sizes=("S", "M", "L"))
    _small, medium, large = factory.variants(product)
    admin = factory.admin(team.brand)
    actor = Actor(ActorKind.BRAND_ADMIN, name="Admin", user_id=admin.id, brand_id=team.brand.id)
    assert medium.id is not None and team.store.id is not None
    tryon.do_set_store_stock(session, actor, medium.id, team.store.id, 2)
    # Anna's console is in French (her staff language); the shopper asks in English.
    anna_user = factory.user_of(team.anna)
    anna_user.language = "fr"
    session.add(anna_user)
    session.commit()
    email = anna_user.email
    slug, anna_id, product_id, store_name = (
        team.brand.slug,
        team.anna.id,
        product.id,
        team.store.name,
    )
    large_id = large.id
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    with WebServer(database_url, tmp_path, create_schema=False) as server:
        base = server.url
        online = staff_http(base, email).put(
            f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
        )
        assert online.status_code == 200, online.text
        associate = signed_in_page(chromium, base, email, "/console/inbox")
        associate.locator("[data-inbox][data-live]").wait_for()

        shopper = chromium.new_context().new_page()
        shopper.goto(f"{base}/b/{slug}/products/{product_id}")
        # No boutique has the L: said plainly, and the M (on a shelf) is offered instead.
        shopper.select_option("#tryon-variant", str(large_id))
        shopper.click("[data-tryon] button[type=submit]")
        status = shopper.locator("[data-tryon-status]")
        status.filter(has_text="No store has this size and colour").wait_for()
        nearest = shopper.locator("[data-tryon-nearest-ask]")
        assert "M / Black" in (nearest.text_content() or "")
        nearest.click()
        status.filter(has_text=f"Sent to {store_name}").wait_for()
        # The conversation on the page opens with the request, without a reload.
        shopper.locator("[data-ask-log]").filter(has_text="try it on for me").wait_for()

        # Pushed to the boutique's associate: the piece, the size and the shelf stock, in
        # her language (the note is stored as its figures, worded on her page).
        row = associate.locator("[data-inbox-list] .inbox-row").first  # the only conversation
        row.wait_for(timeout=10_000)
        row.click()
        associate.locator("[data-thread-log]").filter(
            has_text=f"En rayon à {store_name} : 2"
        ).wait_for()
        assert "Demande d’essayage" in associate.locator("[data-thread-log]").inner_text()
        # The shopper's page words the same note in English.
        shopper.locator("[data-ask-log]").filter(
            has_text=f"On the shelf at {store_name}: 2"
        ).wait_for()
        assert "Petite Lune" in associate.locator("[data-thread-log]").inner_text()
