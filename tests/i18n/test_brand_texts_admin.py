"""A brand admin gives the brand's own texts in its other languages on the existing forms
(product, show, settings); shoppers read them in their language, else the default's."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.models import BrandText
from tests.conftest import login
from tests.factories import Factory


def test_product_form_gives_a_french_name_and_the_page_shows_it(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    login(client, factory.admin(brand).email)
    product = factory.product(brand, name="Silk scarf", stock=5)
    variant = factory.variants(product)[0]
    session.commit()
    form = client.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert 'name="text_name_fr"' in form and 'name="text_description_zh_Hans"' in form
    saved = client.post(
        f"/admin/products/{product.id}",
        data={
            "name": "Silk scarf",
            "price": "120.00",
            f"stock_v{variant.id}": "5",
            "is_active": "1",
            "text_name_fr": "Carré de soie",
            "text_name_zh_Hans": "",
            "text_description_fr": "Roulotté main.",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:400]
    rows = session.exec(select(BrandText).where(BrandText.object_id == product.id)).all()
    assert {(r.field, r.language, r.text) for r in rows} == {
        ("name", "fr", "Carré de soie"),
        ("description", "fr", "Roulotté main."),
    }
    session.commit()
    page = client.get(f"/b/{brand.slug}/products/{product.id}?lang=fr").get_data(as_text=True)
    assert "<h1>Carré de soie</h1>" in page
    # Emptied again: back to the default language's text.
    client.post(
        f"/admin/products/{product.id}",
        data={
            "name": "Silk scarf",
            "price": "120.00",
            f"stock_v{variant.id}": "5",
            "is_active": "1",
            "text_name_fr": "",
        },
    )
    page = client.get(f"/b/{brand.slug}/products/{product.id}?lang=fr").get_data(as_text=True)
    assert "<h1>Silk scarf</h1>" in page


def test_settings_give_the_default_language_and_the_offline_message(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    login(client, factory.admin(brand).email)
    form = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="default_language"' in form and 'name="text_offline_message_fr"' in form
    data = {
        "name": brand.name,
        "primary_color": brand.primary_color,
        "accent_color": brand.accent_color,
        "offline_message": "Nos conseillers sont absents.",
        "blocked_words": "",
        "max_per_client": "2",
        "away_after_minutes": "10",
        "auto_answer_after_seconds": "120",
        "show_reminder_minutes": "30",
        "waitlist_hold_minutes": "120",
        "replay_price": "live",
        "signin_link_minutes": "30",
        "default_language": "fr",
        "text_offline_message_en": "Our associates are away.",
        "text_offline_message_zh_Hans": "我们的顾问暂时不在。",
    }
    saved = client.post("/admin/settings", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:600]
    session.refresh(brand)
    assert brand.default_language == "fr"
    session.commit()  # SQLite: end the read before the next request writes
    # Nobody online: the brand's answer in the shopper's language, else the default's.
    answer = client.get(f"/api/brands/{brand.id}/offline?lang=zh_Hans").get_json()
    assert answer["offline"]["message"] == "我们的顾问暂时不在。", answer
    answer = client.get(f"/api/brands/{brand.id}/offline?lang=fr").get_json()
    assert answer["offline"]["message"] == "Nos conseillers sont absents.", answer
    texts = {r.language: r.text for r in session.exec(select(BrandText)).all()}
    assert texts == {"en": "Our associates are away.", "zh_Hans": "我们的顾问暂时不在。"}
    session.commit()
