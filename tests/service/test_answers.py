"""Automatic answers state exactly the brand's data, and say so when the data is silent.

A seeded catalogue and calendar (one Paris store, one associate, one show) at a fixed
moment: Tuesday 2 March 2027, 09:00 UTC (10:00 in Paris, CET).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from sessions import catalogue as cat
from sessions.clock import utcnow
from sessions.demo import seed_demo
from sessions.models import (
    AssociateProfile,
    Brand,
    FlashOffer,
    LiveSession,
    Product,
    ProductImage,
    Show,
    ShowStatus,
    Store,
    Variant,
)
from sessions.service import availability as av
from sessions.service.answers import (
    PHRASES,
    AutomaticAnswer,
    Lang,
    Topic,
    automatic_answer,
    classify,
    detect_language,
)
from sessions.service.hours import at_store, do_set_weekly_hours
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory

NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
OFFLINE = "We are closed on Sundays. Leave us a message."
# Babel's (CLDR's) French money: a narrow no-break space groups the thousands, a
# no-break space stands before the €.
NNBSP, NBSP = "\u202f", "\xa0"


@dataclass
class Shop:
    brand: Brand
    store: Store
    anna: AssociateProfile
    lune: Product  # Sky Blue: 2 left, Ivory: sold out; one size; photo
    coat: Product  # Camel S 2, M 0, L 5; no photo
    dress: Product  # 36 at the product price, 38 dearer
    tote: Product  # no variants at all
    show: Show  # Thursday 4 March 2027, 18:00 Paris; the Lune is in it

    def variant(self, product: Product, size: str = "OS", colour: str = "") -> Variant:
        db = Session.object_session(self.brand)
        assert db is not None and product.id is not None
        for variant in cat.variants_of(db, product.id):
            if variant.size == size and (not colour or variant.colour == colour):
                return variant
        raise AssertionError(f"no {size} {colour} variant")


def product(
    factory: Factory, brand: Brand, name: str, variants: list[cat.VariantSpec], **kw: object
) -> Product:
    assert brand.id is not None
    spec = cat.ProductSpec(name=name, price_minor=kw.pop("price_minor", 189000), variants=variants)
    for key, value in kw.items():
        setattr(spec, key, value)
    return cat.do_create_product(factory.session, brand_id=brand.id, spec=spec)


def seed(factory: Factory, session: Session, *, hours: list[av.Span] | None = None) -> Shop:
    brand = factory.brand(name="Maison Test")
    brand.offline_message = OFFLINE
    session.add(brand)
    store = factory.store(brand, name="Paris", timezone="Europe/Paris")
    anna = factory.associate(brand, store, name="Anna")
    anna.min_notice_minutes = 0
    session.add(anna)
    session.commit()
    assert store.id is not None
    # Wednesdays 10:00-12:00 in Paris: the next free slot is Wednesday 3 March, 10:00.
    do_set_weekly_hours(session, anna, at_store(store.id, [av.Span(2, time(10), time(12))]))
    lune = product(
        factory,
        brand,
        "Petite Lune Crossbody",
        [
            cat.VariantSpec(
                sku="L-SKY", size="OS", colour="Sky Blue", stock=2, colour_hex="#7fb3e0"
            ),
            cat.VariantSpec(sku="L-IVO", size="OS", colour="Ivory", stock=0),
        ],
        image_path="demo/petite-lune.jpg",
    )
    coat = product(
        factory,
        brand,
        "Wrap Coat",
        [
            cat.VariantSpec(
                sku=f"C-{size}", size=size, colour="Camel", stock=n, colour_hex="#B5834F"
            )
            for size, n in (("S", 2), ("M", 0), ("L", 5))
        ],
        price_minor=390000,
    )
    dress = product(
        factory,
        brand,
        "Riviera Dress",
        [
            cat.VariantSpec(sku="D-36", size="36", colour="Sage", stock=3),
            cat.VariantSpec(sku="D-38", size="38", colour="Sage", stock=1, price_minor=255000),
        ],
        price_minor=245000,
    )
    tote = product(factory, brand, "Atelier Tote", [], price_minor=215000)
    show = factory.show(
        brand,
        title="Spring preview",
        starts_at=datetime(2027, 3, 4, 17, 0, tzinfo=UTC),
        product_ids=[lune.id],
        store_id=store.id,
        allow_past=True,
    )
    if hours is not None:
        do_set_weekly_hours(session, anna, at_store(store.id, hours))
    return Shop(brand, store, anna, lune, coat, dress, tote, show)


@pytest.fixture
def shop(factory: Factory, session: Session) -> Shop:
    return seed(factory, session)


def ask(
    session: Session, shop: Shop, question: str, product: Product | None = None, **kw: object
) -> AutomaticAnswer:
    brand = kw.pop("brand", shop.brand)
    assert isinstance(brand, Brand)
    return automatic_answer(
        session,
        brand,
        question=question,
        product_id=product.id if product is not None else kw.pop("product_id", None),
        now=NOW,
    )


def body(answer: AutomaticAnswer, lang: Lang = "en") -> list[str]:
    """The answer's lines between the header and the footer, which every answer has."""
    lines = answer.text.split("\n")
    assert lines[0] == PHRASES["header"][lang]
    assert lines[-1] == PHRASES["footer"][lang]
    return lines[1:-1]


def start_live_show(factory: Factory, shop: Shop, **kw: object) -> LiveSession:
    values: dict = {"title": "Live now", "starts_at": NOW, "allow_past": True} | kw
    show = factory.show(shop.brand, **values)
    return lifecycle.do_start_show(factory.session, OPERATOR, show)


def add_offer(session: Session, live: LiveSession, product: Product, **kw: object) -> FlashOffer:
    assert live.id is not None and product.id is not None
    values: dict = {
        "price_minor": 150000,
        "quantity": 5,
        "claimed": 2,
        "starts_at": NOW - timedelta(minutes=5),
        "ends_at": NOW + timedelta(minutes=10),
    } | kw
    offer = FlashOffer(live_session_id=live.id, product_id=product.id, **values)
    session.add(offer)
    session.commit()
    return offer


# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Is the Petite Lune in stock?", "en"),
        ("Is the Trench Aurèle available in M?", "en"),
        ("Est-ce que le sac est disponible ?", "fr"),
        ("Vous l'avez en taille 38 ?", "fr"),
        ("Prochain live ?", "fr"),
        ("这个包还有货吗？", "zh"),
        ("Petite Lune 有天蓝色吗", "zh"),
        ("Hast du das in Blau?", "en"),  # neither of the three: English
    ],
)
def test_the_language_is_the_question_s(question: str, lang: str) -> None:
    assert detect_language(question) == lang


@pytest.mark.parametrize(
    ("question", "topics"),
    [
        ("What sizes do you have?", {Topic.SIZE}),
        ("Is it in stock?", {Topic.STOCK}),
        ("Is it a true sky blue?", {Topic.COLOUR}),
        ("Can you show me the colour?", {Topic.COLOUR}),  # "show me" is no show
        ("Is the ivory in stock?", {Topic.STOCK}),  # a colour named is no colour question
        ("C'est un vrai bleu ciel ?", {Topic.COLOUR}),
        ("Is it true to size?", {Topic.SIZE}),
        ("Do you have it in M?", {Topic.STOCK}),
        ("Does it come in navy?", {Topic.STOCK}),
        ("Il existe en 38 ?", {Topic.STOCK}),
        ("When is the next show?", {Topic.SHOW}),
        ("Any sales or a discount?", {Topic.OFFER}),
        ("How much is it?", {Topic.PRICE}),
        ("Can I book an appointment?", {Topic.CONSULTATION}),
        ("Do you have a photo?", {Topic.PHOTO}),
        ("Quelle taille reste en stock ?", {Topic.SIZE, Topic.STOCK}),
        ("La couleur est-elle fidèle ?", {Topic.COLOUR}),
        ("Y a-t-il des soldes ou une réduction ?", {Topic.OFFER}),
        ("C'est combien ?", {Topic.PRICE}),
        ("Le prochain live, c'est quand ?", {Topic.SHOW}),
        ("Je voudrais un rendez-vous", {Topic.CONSULTATION}),
        ("有什么尺码？", {Topic.SIZE}),
        ("还有货吗", {Topic.STOCK}),
        ("颜色正吗", {Topic.COLOUR}),
        ("有优惠或者折扣吗", {Topic.OFFER}),
        ("下一场直播是什么时候", {Topic.SHOW}),
        ("可以预约吗", {Topic.CONSULTATION}),
        ("多少钱", {Topic.PRICE}),
        ("Is the size M available, and what does it cost?", {Topic.SIZE, Topic.STOCK, Topic.PRICE}),
        ("Do you ship to Norway?", set()),
        ("A lookbook, delivered?", set()),  # no "book", no "live" inside other words
    ],
)
def test_questions_are_classified_by_simple_rules(question: str, topics: set[Topic]) -> None:
    assert classify(question) == topics


# --- stock and sizes --------------------------------------------------------------------------


def test_stock_and_one_size_per_colour(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "Is the Petite Lune in stock?", shop.lune)
    assert body(answer) == [
        "The Petite Lune Crossbody in Sky Blue: 2 left, one size.",
        "The Petite Lune Crossbody in Ivory: sold out, one size.",
    ]
    sky, ivory = shop.variant(shop.lune, colour="Sky Blue"), shop.variant(shop.lune, colour="Ivory")
    assert answer.facts == [
        f"stock:variant:{sky.id}=2",
        f"size:variant:{sky.id}=OS",
        f"colour:variant:{sky.id}=Sky Blue",
        f"stock:variant:{ivory.id}=0",
        f"size:variant:{ivory.id}=OS",
        f"colour:variant:{ivory.id}=Ivory",
    ]
    assert answer.knows


def test_sold_out_in_one_size(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "What sizes do you have?", shop.coat)
    assert body(answer) == ["The Wrap Coat in Camel: 2 left in S and 5 left in L; sold out in M."]
    m = shop.variant(shop.coat, "M")
    assert f"stock:variant:{m.id}=0" in answer.facts and f"size:variant:{m.id}=M" in answer.facts


def test_stock_in_french(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "Est-ce que le manteau est disponible en taille M ?", shop.coat)
    assert body(answer, "fr") == [
        "Wrap Coat en Camel : 2 en taille S et 5 en taille L ; épuisé en taille M."
    ]


def test_stock_in_chinese(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "这个包还有货吗？", shop.lune)
    assert body(answer, "zh") == [
        "Petite Lune Crossbody（Sky Blue）：剩 2 件，均码。",
        "Petite Lune Crossbody（Ivory）：已售罄，均码。",
    ]


def test_a_named_colour_narrows_the_answer(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "Is the ivory in stock?", shop.lune)
    assert body(answer) == ["The Petite Lune Crossbody in Ivory: sold out, one size."]


# --- colour and photo ---------------------------------------------------------------------------


def test_colour_value_is_the_catalogue_s_with_a_real_photo(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "Is it a true sky blue?", shop.lune)
    assert body(answer) == [
        "The catalogue lists Sky Blue as #7FB3E0.",
        "Photo: /uploads/demo/petite-lune.jpg",
    ]
    sky = shop.variant(shop.lune, colour="Sky Blue")
    assert answer.facts == [
        f"colour_hex:variant:{sky.id}=#7FB3E0",
        f"photo:product:{shop.lune.id}=/uploads/demo/petite-lune.jpg",
    ]
    assert answer.knows
    assert "measur" not in answer.text  # a catalogue value, never a measurement


def test_colour_value_in_french(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "La couleur Sky Blue est-elle fidèle ?", shop.lune)
    assert body(answer, "fr") == [
        "Le catalogue indique #7FB3E0 pour le coloris Sky Blue.",
        "Photo : /uploads/demo/petite-lune.jpg",
    ]


def test_a_colour_without_a_value_gets_none_invented(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "What colour is the ivory exactly?", shop.lune)
    assert body(answer) == [
        "The catalogue gives no colour value for Ivory.",
        "Photo: /uploads/demo/petite-lune.jpg",
    ]
    ivory = shop.variant(shop.lune, colour="Ivory")
    assert answer.facts[0] == f"colour_hex:variant:{ivory.id}=none"
    assert "#" not in answer.text
    assert not answer.knows


def test_many_colours_are_counted_not_listed(
    factory: Factory, session: Session, shop: Shop
) -> None:
    colours = ["Noir", "Camel", "Rouge", "Vert", "Bleu", "Gris"]
    specs = [cat.VariantSpec(sku=f"S-{c}", colour=c, stock=1) for c in colours]
    scarf = product(factory, shop.brand, "Carré", specs)
    answer = ask(session, shop, "Is it in stock?", scarf)
    assert body(answer) == [
        *(f"The Carré in {c}: 1 left, one size." for c in colours[:4]),
        "The catalogue has 2 more colours of it.",
    ]


def test_a_colour_s_own_picture_comes_first(session: Session, shop: Shop) -> None:
    ivory = shop.variant(shop.lune, colour="Ivory")
    ivory.image_path = "demo/lune-ivory.jpg"
    session.add(ivory)
    session.commit()
    answer = ask(session, shop, "Can I see a picture of the ivory one?", shop.lune)
    assert body(answer) == ["Photo: /uploads/demo/lune-ivory.jpg"]
    assert answer.facts == [f"photo:variant:{ivory.id}=/uploads/demo/lune-ivory.jpg"]


def test_a_gallery_picture_when_the_product_has_no_main_one(session: Session, shop: Shop) -> None:
    assert shop.coat.id is not None
    session.add(ProductImage(product_id=shop.coat.id, path="coats/wrap-2.jpg", position=2))
    session.add(ProductImage(product_id=shop.coat.id, path="coats/wrap-1.jpg", position=1))
    session.commit()
    answer = ask(session, shop, "Do you have a photo?", shop.coat)
    assert body(answer) == ["Photo: /uploads/coats/wrap-1.jpg"]


def test_no_photo_is_said_plainly(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "Do you have a photo?", shop.coat)
    assert body(answer) == ["There is no photo of the Wrap Coat in the catalogue yet."]
    assert answer.facts == [f"photo:product:{shop.coat.id}=none"]
    assert "/uploads" not in answer.text and not answer.knows


# --- price and offers ----------------------------------------------------------------------------


def test_price_in_three_languages(session: Session, shop: Shop) -> None:
    en = ask(session, shop, "How much is it?", shop.lune)
    assert body(en) == ["The Petite Lune Crossbody is €1,890.00."]
    assert en.facts == [f"price:product:{shop.lune.id}=189000 EUR"]
    fr = ask(session, shop, "Quel est le prix ?", shop.lune)
    assert body(fr, "fr") == [f"Petite Lune Crossbody : 1{NNBSP}890,00{NBSP}€."]
    zh = ask(session, shop, "多少钱？", shop.lune)
    assert body(zh, "zh") == ["Petite Lune Crossbody的价格为 €1,890.00。"]


def test_a_price_that_differs_by_variant_is_a_range(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "What's the price of the dress?", shop.dress)
    assert body(answer) == [
        "The Riviera Dress is from €2,450.00 to €2,550.00, depending on size and colour."
    ]
    d36, d38 = shop.variant(shop.dress, "36"), shop.variant(shop.dress, "38")
    assert answer.facts == [
        f"price:variant:{d36.id}=245000 EUR",
        f"price:variant:{d38.id}=255000 EUR",
    ]


def test_the_current_flash_offer_on_the_piece(
    factory: Factory, session: Session, shop: Shop
) -> None:
    offer = add_offer(session, start_live_show(factory, shop), shop.lune)
    answer = ask(session, shop, "Is there a promotion on it?", shop.lune)
    assert body(answer) == [
        "Live offer on the Petite Lune Crossbody: €1,500.00 instead of €1,890.00, "
        "until today at 10:10 (Paris time), 3 left at this price."
    ]
    assert answer.facts == [
        f"offer:{offer.id}:product={shop.lune.id}",
        f"offer:{offer.id}:price=150000 EUR",
        f"offer:{offer.id}:ends_at=2027-03-02T09:10:00+00:00",
        f"offer:{offer.id}:remaining=3",
    ]
    assert answer.knows
    fr = ask(session, shop, "Il y a des soldes sur ce sac ?", shop.lune)
    assert body(fr, "fr") == [
        f"Offre en direct sur Petite Lune Crossbody : 1{NNBSP}500,00{NBSP}€ au lieu de "
        f"1{NNBSP}890,00{NBSP}€, jusqu'à aujourd'hui à 10:10 (heure de Paris), "
        "encore 3 à ce prix."
    ]
    zh = ask(session, shop, "有优惠吗？", shop.lune)
    assert body(zh, "zh") == [
        "Petite Lune Crossbody正在直播特惠：€1,500.00（原价 €1,890.00），"
        "截至今天 10:10（巴黎时间），此价格还剩 3 件。"
    ]


def test_asking_the_price_during_an_offer_gives_both(
    factory: Factory, session: Session, shop: Shop
) -> None:
    add_offer(session, start_live_show(factory, shop), shop.lune)
    answer = ask(session, shop, "How much is it?", shop.lune)
    assert body(answer)[0] == "The Petite Lune Crossbody is €1,890.00."
    assert body(answer)[1].startswith("Live offer on the Petite Lune Crossbody: €1,500.00")


def test_the_brand_s_live_offers_when_no_piece_is_given(
    factory: Factory, session: Session, shop: Shop
) -> None:
    offer = add_offer(session, start_live_show(factory, shop), shop.coat, price_minor=350000)
    answer = ask(session, shop, "Any sales on right now?")
    assert body(answer) == [
        "A live offer is on the Wrap Coat: €3,500.00 until today at 10:10 (Paris time)."
    ]
    assert f"offer:{offer.id}:price=350000 EUR" in answer.facts and answer.knows


def test_no_promotion_on_this_piece_names_the_running_ones(
    factory: Factory, session: Session, shop: Shop
) -> None:
    add_offer(session, start_live_show(factory, shop), shop.coat, price_minor=350000)
    answer = ask(session, shop, "Is there a discount?", shop.lune)
    assert body(answer) == [
        "I can't see a promotion on this piece right now.",
        "A live offer is on the Wrap Coat: €3,500.00 until today at 10:10 (Paris time).",
    ]
    assert f"offer:product:{shop.lune.id}=none" in answer.facts and not answer.knows


def test_no_promotion_and_nothing_invented(factory: Factory, session: Session, shop: Shop) -> None:
    live = start_live_show(factory, shop)
    # None of these is a promotion a shopper can have now.
    add_offer(session, live, shop.lune, ends_at=NOW - timedelta(seconds=1))  # over
    add_offer(session, live, shop.lune, cancelled_at=NOW - timedelta(minutes=1))  # cancelled
    add_offer(session, live, shop.lune, claimed=5)  # all claimed
    add_offer(session, live, shop.lune, starts_at=NOW + timedelta(minutes=1))  # not yet
    answer = ask(session, shop, "Is there a promotion?", shop.lune)
    assert body(answer) == ["I can't see a promotion on this piece right now."]
    assert answer.facts == [f"offer:product:{shop.lune.id}=none"]
    assert "€" not in answer.text and not answer.knows
    anywhere = ask(session, shop, "Any promotion?")
    assert body(anywhere) == ["I can't see a promotion running right now."]
    assert anywhere.facts == ["offer=none"] and not anywhere.knows


def test_an_offer_of_an_ended_session_is_not_current(
    factory: Factory, session: Session, shop: Shop
) -> None:
    live = start_live_show(factory, shop)
    add_offer(session, live, shop.lune)
    show = session.get(Show, live.show_id)
    assert show is not None
    lifecycle.do_end_show(session, OPERATOR, show)
    answer = ask(session, shop, "Any promotion?", shop.lune)
    assert answer.facts == [f"offer:product:{shop.lune.id}=none"]


# --- shows and consultations -----------------------------------------------------------------


def test_next_show_in_three_languages(session: Session, shop: Shop) -> None:
    en = ask(session, shop, "When is the next live show?", shop.lune)
    assert body(en) == [
        "The next show is “Spring preview”, Thursday 4 March at 18:00 (Paris time).",
        "The Petite Lune Crossbody is in it.",
    ]
    sid = shop.show.id
    assert en.facts == [
        f"show:{sid}:title=Spring preview",
        f"show:{sid}:status=scheduled",
        f"show:{sid}:starts_at=2027-03-04T17:00:00+00:00",
        f"show:{sid}:product:{shop.lune.id}=listed",
    ]
    assert en.knows
    fr = ask(session, shop, "C'est quand le prochain live ?", shop.coat)
    assert body(fr, "fr") == [
        "Le prochain live est « Spring preview », jeudi 4 mars à 18:00 (heure de Paris).",
        "Wrap Coat n'est pas au programme.",
    ]
    assert f"show:{sid}:product:{shop.coat.id}=not_listed" in fr.facts
    zh = ask(session, shop, "下一场直播是什么时候？")
    assert body(zh, "zh") == [
        "下一场直播是“Spring preview”，时间为3月4日星期四 18:00（巴黎时间）。"
    ]


def test_a_show_live_now_comes_before_the_next_one(
    factory: Factory, session: Session, shop: Shop
) -> None:
    live = start_live_show(factory, shop, title="Lune, tried on live")
    answer = ask(session, shop, "Is there a live stream?", shop.lune)
    assert body(answer) == [
        "“Lune, tried on live” is live now.",
        "The Petite Lune Crossbody isn't listed for it.",
        "The next show is “Spring preview”, Thursday 4 March at 18:00 (Paris time).",
        "The Petite Lune Crossbody is in it.",
    ]
    assert answer.facts[:3] == [
        f"show:{live.show_id}:title=Lune, tried on live",
        f"show:{live.show_id}:status=live",
        f"show:{live.show_id}:product:{shop.lune.id}=not_listed",
    ]


def test_a_show_next_year_says_the_year(factory: Factory, session: Session, shop: Shop) -> None:
    shop.show.status = ShowStatus.CANCELLED
    session.add(shop.show)
    session.commit()
    factory.show(
        shop.brand,
        title="New year",
        starts_at=datetime(2028, 1, 6, 18, 30, tzinfo=UTC),
        store_id=shop.store.id,
    )
    answer = ask(session, shop, "Next show?")
    assert body(answer) == [
        "The next show is “New year”, Thursday 6 January 2028 at 19:30 (Paris time)."
    ]


def test_next_free_consultation_in_three_languages(session: Session, shop: Shop) -> None:
    en = ask(session, shop, "Can I book an appointment?")
    assert body(en) == [
        "The next free consultation is Wednesday 3 March at 10:00 (Paris time), with Anna."
    ]
    assert en.facts == [
        f"slot:associate:{shop.anna.id}:store:{shop.store.id}=2027-03-03T09:00:00+00:00"
    ]
    assert en.knows
    fr = ask(session, shop, "Je voudrais un rendez-vous")
    assert body(fr, "fr") == [
        "Le prochain créneau de consultation libre est mercredi 3 mars à 10:00 "
        "(heure de Paris), avec Anna."
    ]
    zh = ask(session, shop, "可以预约吗？")
    assert body(zh, "zh") == ["最近的空闲咨询时段是3月3日星期三 10:00（巴黎时间），顾问为Anna。"]


def test_several_topics_are_answered_together(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "How much is it, and when is the next show?", shop.coat)
    assert body(answer) == [
        "The Wrap Coat is €3,900.00.",
        "The next show is “Spring preview”, Thursday 4 March at 18:00 (Paris time).",
        "The Wrap Coat isn't listed for it.",
    ]


# --- where the data is silent ---------------------------------------------------------------------


def no_digits(text: str) -> bool:
    return re.search(r"\d", text) is None


def test_no_show_scheduled(factory: Factory, session: Session, shop: Shop) -> None:
    shop.show.status = ShowStatus.CANCELLED
    session.add(shop.show)
    factory.show(shop.brand, title="Over", starts_at=NOW - timedelta(days=1), allow_past=True)
    ended = factory.show(shop.brand, title="Ended", starts_at=NOW + timedelta(days=1))
    ended.status = ShowStatus.ENDED
    session.add(ended)
    session.commit()
    answer = ask(session, shop, "When is the next show?", shop.lune)
    assert body(answer) == ["I can't see a show scheduled yet."]
    assert answer.facts == ["show=none"] and not answer.knows
    assert no_digits(answer.text)


def test_no_free_slot(factory: Factory, session: Session) -> None:
    shop = seed(factory, session, hours=[])
    answer = ask(session, shop, "Can I book an appointment?")
    assert body(answer) == ["I can't see a free consultation slot in the next 28 days."]
    assert answer.facts == ["slot=none"] and not answer.knows
    assert re.search(r"\d:\d\d", answer.text) is None and "Anna" not in answer.text


def test_no_product_given(session: Session, shop: Shop) -> None:
    for product_id in (None, 999_999):
        answer = ask(session, shop, "Is it in stock, and in which sizes?", product_id=product_id)
        assert body(answer) == [
            "I can't see which piece you are looking at, so I can't tell you about it."
        ]
        assert answer.facts == ["product=none"] and not answer.knows
        assert no_digits(answer.text)


def test_unknown_stock_states_no_number(session: Session, shop: Shop) -> None:
    answer = ask(session, shop, "Is it in stock?", shop.tote)
    assert body(answer) == ["I can't see stock or sizes for the Atelier Tote in the catalogue."]
    assert answer.facts == [f"stock:product:{shop.tote.id}=none"] and not answer.knows
    assert no_digits(answer.text)


def test_an_unknown_question_is_honest_and_gives_the_offline_message(
    session: Session, shop: Shop
) -> None:
    answer = ask(session, shop, "Do you ship to Norway?", shop.lune)
    assert body(answer) == ["I can't answer this from our catalogue and calendar.", OFFLINE]
    assert answer.facts == [] and not answer.knows
    assert no_digits(answer.text) and "Petite Lune" not in answer.text
    zh = ask(session, shop, "你们周末营业吗？")
    assert body(zh, "zh") == ["我无法根据商品目录和日程回答这个问题。", OFFLINE]


def test_the_answer_never_names_another_brand_s_data(
    factory: Factory, session: Session, shop: Shop
) -> None:
    # Everything the other brand has is a "yes": a show, an offer, free hours, stock.
    other = seed(factory, session)
    add_offer(session, start_live_show(factory, other), other.lune)
    bare = factory.brand(name="Bare")
    question = "Stock, sizes, colour, price, any sale, next live show, an appointment?"
    for product_id in (None, other.lune.id):
        answer = automatic_answer(session, bare, question=question, product_id=product_id, now=NOW)
        assert body(answer) == [
            "I can't see which piece you are looking at, so I can't tell you about it.",
            "I can't see a promotion running right now.",
            "I can't see a show scheduled yet.",
            "I can't see a free consultation slot in the next 28 days.",
        ]
        assert answer.facts == ["product=none", "offer=none", "show=none", "slot=none"]


def test_inactive_products_and_foreign_variants_are_never_used(
    factory: Factory, session: Session, shop: Shop
) -> None:
    other = factory.brand()
    assert other.id is not None and shop.lune.id is not None
    # A variant row that names another brand is not this brand's stock.
    session.add(
        Variant(product_id=shop.lune.id, brand_id=other.id, sku="X-1", colour="Red", stock=9)
    )
    session.commit()
    answer = ask(session, shop, "Is it in stock?", shop.lune)
    assert "Red" not in answer.text and "9" not in answer.text
    assert not any(fact.endswith("=9") or "Red" in fact for fact in answer.facts)
    live = start_live_show(factory, shop)
    add_offer(session, live, shop.lune)
    shop.lune.is_active = False
    session.add(shop.lune)
    session.commit()
    gone = ask(session, shop, "Is it in stock? Any promotion?", shop.lune)
    assert body(gone) == [
        "I can't see which piece you are looking at, so I can't tell you about it.",
        "I can't see a promotion running right now.",  # its offer is not listed either
    ]


def test_the_answer_writes_nothing(factory: Factory, session: Session, shop: Shop) -> None:
    add_offer(session, start_live_show(factory, shop), shop.lune)
    writes: list[str] = []
    event.listen(session, "before_flush", lambda *_: writes.append("flush"))
    event.listen(session, "after_commit", lambda *_: writes.append("commit"))
    question = "Stock, true blue colour, photo, price, sale, show, appointment?"
    answer = ask(session, shop, question, shop.lune)
    assert len(body(answer)) == 12, answer.text  # every topic was answered...
    assert writes == []  # ...by reading only


def test_the_demo_brand_answers_the_issue_s_question(session: Session, tmp_path: Path) -> None:
    demo = seed_demo(session, tmp_path / "uploads")
    lune = session.exec(select(Product).where(Product.name == "Petite Lune Crossbody")).one()
    answer = automatic_answer(
        session,
        demo.brand,
        question="Is the Petite Lune a true sky blue? How many are left?",
        product_id=lune.id,
        now=utcnow(),
    )
    assert body(answer) == [
        "The Petite Lune Crossbody in Sky Blue: 2 left, one size.",
        "The catalogue lists Sky Blue as #7FB3E0.",
        "Photo: /uploads/demo/petite-lune-crossbody.jpg",
    ]
