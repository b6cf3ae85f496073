"""The shopper's language on the pages: the switch, Accept-Language, locale formats, the
brand's own texts with their fallback, and domain errors in the page's language."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.brand_texts import do_set_texts
from sessions.models import Shopper
from tests.factories import Factory
from web.i18n import COOKIE

NNBSP = "\u202f"  # CLDR's French thousands separator
NBSP = "\xa0"  # and the space before the currency sign


def test_switch_sets_the_cookie_and_goes_back_on_this_site_only(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.brand()
    response = client.post("/lang", data={"lang": "fr", "next": f"/b/{brand.slug}?lang=en"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/b/{brand.slug}?lang=en")
    assert f"{COOKIE}=fr" in response.headers["Set-Cookie"]
    page = client.get(f"/b/{brand.slug}").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Réserver un rendez-vous" in page
    # The current language is the selected option; the switch goes back without ?lang=.
    assert '<option value="fr" lang="fr" selected>Français</option>' in page
    assert f'name="next" value="/b/{brand.slug}"' in page
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        away = client.post("/lang", data={"lang": "zh_Hans", "next": target})
        assert away.headers["Location"] in ("/", "http://localhost/")


def test_an_unknown_language_changes_nothing(client: FlaskClient) -> None:
    response = client.post("/lang", data={"lang": "xx", "next": "/"})
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers or COOKIE not in response.headers["Set-Cookie"]


def test_accept_language_chooses_simplified_chinese(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    page = client.get(f"/b/{brand.slug}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    html = page.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert "预约咨询" in html
    # The page modules get their strings in the page's language.
    block = html.split('id="vitrine-i18n">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["messages"]["Add to bag"] == "加入购物袋"


def test_prices_follow_the_page_locale(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand(currency="EUR")
    product = factory.product(brand, name="Sac", price_minor=125000)
    url = f"/b/{brand.slug}/products/{product.id}"
    assert f"1{NNBSP}250,00{NBSP}€" in client.get(url + "?lang=fr").get_data(as_text=True)
    assert "€1,250.00" in client.get(url + "?lang=en").get_data(as_text=True)
    assert "€1,250.00" in client.get(url + "?lang=zh_Hans").get_data(as_text=True)


def test_yen_has_no_decimals_and_yuan_its_symbol(client: FlaskClient, factory: Factory) -> None:
    yen = factory.brand(currency="JPY")
    item = factory.product(yen, price_minor=125000)
    page = client.get(f"/b/{yen.slug}/products/{item.id}?lang=en").get_data(as_text=True)
    assert "¥125,000" in page and "¥125,000.00" not in page
    yuan = factory.brand(currency="CNY")
    piece = factory.product(yuan, price_minor=125000)
    page = client.get(f"/b/{yuan.slug}/products/{piece.id}?lang=zh_Hans").get_data(as_text=True)
    assert "¥1,250.00" in page


def test_brand_texts_in_the_shopper_language_else_the_default(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    product = factory.product(brand, name="Silk scarf", description="Hand-rolled edges.")
    show = factory.show(brand, title="Autumn trunk show")
    assert brand.id and product.id and show.id
    do_set_texts(session, brand.id, "product", product.id, {("name", "fr"): "Carré de soie"})
    do_set_texts(session, brand.id, "show", show.id, {("title", "fr"): "Présentation d’automne"})
    french = client.get(f"/b/{brand.slug}/products/{product.id}?lang=fr").get_data(as_text=True)
    assert "<h1>Carré de soie</h1>" in french
    assert "Hand-rolled edges." in french  # no French description: the brand's own
    chinese = client.get(f"/b/{brand.slug}/products/{product.id}?lang=zh_Hans")
    assert "<h1>Silk scarf</h1>" in chinese.get_data(as_text=True)  # fallback
    home = client.get(f"/b/{brand.slug}?lang=fr").get_data(as_text=True)
    assert "Présentation d’automne" in home and "Autumn trunk show" not in home


def test_choosing_a_language_is_stored_on_the_shopper(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    client.get(f"/b/{brand.slug}")
    # A question makes this browser a shopper; then the switch remembers the choice on it.
    asked = client.post(
        f"/api/brands/{brand.id}/thread", json={"body": "Bonjour", "client_id": "c1"}
    )
    assert asked.status_code in (200, 201), asked.data[:300]
    client.post("/lang", data={"lang": "fr", "next": "/"})
    session.expire_all()
    shopper_id = asked.get_json()["thread"]["shopper_id"]
    shopper = session.get(Shopper, shopper_id)
    assert shopper is not None and shopper.language == "fr"
    session.commit()


def test_domain_errors_read_in_the_page_language(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    response = client.get(f"/api/brands/{brand.id}/thread?lang=fr")
    assert response.status_code < 500
    page = client.get("/b/nope?lang=fr")
    assert page.status_code == 404
    assert "Page introuvable" in page.get_data(as_text=True)
    sold_out = factory.product(brand, stock=0)
    variant = factory.variants(sold_out)[0]
    session.commit()  # SQLite: a read holds the lock the request needs
    refused = client.post(
        "/api/bag/lines?lang=fr",
        json={"variant_id": variant.id, "quantity": 1},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code in (403, 409), refused.data[:300]
    assert refused.get_json()["message"] in (
        "Épuisé.",
        "Ce produit n’est pas proposé dans cette session.",
    )
