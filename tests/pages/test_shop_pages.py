"""Shopper pages through the Flask test client: brand home, show, product, bag, .ics, embed."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from sessions.clock import utcnow
from sessions.shows.lifecycle import do_cancel_show
from tests.factories import OPERATOR, Factory


def test_brand_home_lists_upcoming_show_with_countdown_and_calendar_link(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.brand(name="Maison Test")
    show = factory.show(brand, title="Autumn trunk show")
    html = client.get(f"/b/{brand.slug}").get_data(as_text=True)
    assert "Autumn trunk show" in html
    assert "data-countdown=" in html
    assert f"/b/{brand.slug}/shows/{show.id}.ics" in html
    assert f"/b/{brand.slug}/book" in html and f"/b/{brand.slug}/talk" in html


def test_unknown_brand_is_a_readable_404(client: FlaskClient) -> None:
    response = client.get("/b/nope")
    assert response.status_code == 404
    assert "No brand called" in response.get_data(as_text=True)


def test_ics_is_a_valid_calendar_event(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    starts = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    show = factory.show(brand, title="Evening", starts_at=starts, duration_minutes=30)
    response = client.get(f"/b/{brand.slug}/shows/{show.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    event = next(iter(Calendar.from_ical(response.data).walk("VEVENT")))
    assert event.decoded("dtstart") == starts
    assert event.decoded("dtend") == starts + timedelta(minutes=30)
    assert "Evening" in str(event.get("summary"))


def test_cancelled_show_has_no_calendar_file(
    client: FlaskClient, factory: Factory, session
) -> None:
    brand = factory.brand()
    show = factory.show(brand)
    do_cancel_show(session, OPERATOR, show)
    assert client.get(f"/b/{brand.slug}/shows/{show.id}.ics").status_code == 410


def test_show_page_renders_products_and_connection_badge(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.brand()
    product = factory.product(brand, name="Silk scarf", sizes=("S", "M"), stock=3)
    show = factory.show(brand, product_ids=[product.id])
    html = client.get(f"/b/{brand.slug}/shows/{show.id}").get_data(as_text=True)
    assert "Silk scarf" in html
    assert 'id="state-badge"' in html
    assert "6 in stock" in html


def test_show_of_another_brand_is_not_found(client: FlaskClient, factory: Factory) -> None:
    a, b = factory.brand(), factory.brand()
    show = factory.show(b)
    assert client.get(f"/b/{a.slug}/shows/{show.id}").status_code == 404


def test_product_and_empty_bag_pages(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    product = factory.product(brand, name="Loafer", sizes=("40", "41"))
    html = client.get(f"/b/{brand.slug}/products/{product.id}").get_data(as_text=True)
    assert "Loafer" in html and "40" in html
    assert "Your bag is empty" in client.get(f"/b/{brand.slug}/bag").get_data(as_text=True)


def test_embed_page_and_loader(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    show = factory.show(brand)
    html = client.get(f"/embed/shows/{show.id}").get_data(as_text=True)
    assert 'data-embed-token="' in html and 'data-embed-token=""' not in html
    loader = client.get("/embed.js")
    assert loader.status_code == 200
    assert b"data-vitrine-show" in loader.data
    loader.close()


def test_embed_token_identifies_the_guest(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    import re

    from web.shop.embed import guest_from_embed_token

    brand = factory.brand()
    show = factory.show(brand)
    html = client.get(f"/embed/shows/{show.id}").get_data(as_text=True)
    token = re.search(r'data-embed-token="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    with app.test_request_context():
        guest = guest_from_embed_token(token)  # a guest key: no shopper until they act
        assert guest is not None and guest.key and guest.actor is None
        assert guest_from_embed_token(token + "x") is None


def test_embed_header_stands_in_for_the_cookie(app: Flask, factory: Factory) -> None:
    import re

    brand = factory.brand()
    show = factory.show(brand)
    variant = factory.variants(factory.product(brand))[0]
    factory.session.commit()  # end the read: on SQLite it holds the write lock
    html = app.test_client().get(f"/embed/shows/{show.id}").get_data(as_text=True)
    token = re.search(r'data-embed-token="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    cookieless = app.test_client(use_cookies=False)
    assert cookieless.get("/whoami").get_json()["kind"] == "anonymous"
    header = {"X-Vitrine-Embed": token}
    added = cookieless.post("/api/bag/lines", json={"variant_id": variant.id}, headers=header)
    assert added.status_code == 201, added.json  # the first action makes the shopper
    me = cookieless.get("/whoami", headers=header).get_json()
    assert me["kind"] == "shopper"
    forged = cookieless.get("/whoami", headers={"X-Vitrine-Embed": token[:-2] + "xx"}).get_json()
    assert forged["kind"] == "anonymous"
