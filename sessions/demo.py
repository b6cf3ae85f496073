"""The demo brand a newcomer sees after `make run`: stores, associates, a catalogue, shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from sqlmodel import Session, select

from sessions import catalogue as cat
from sessions.access import Actor, ActorKind
from sessions.accounts import do_create_associate, do_create_brand, do_create_user
from sessions.clock import utcnow
from sessions.imagery import draw_portrait, draw_product_image
from sessions.models import AssociateProfile, Brand, LiveSession, Role, WeeklyHours
from sessions.shows import lifecycle

DEMO_SLUG = "maison-aurele"
DEMO_PASSWORD = "vitrine-demo-2026"
DEMO_ADMIN_EMAIL = "admin@maison-aurele.example"

# name, category, shape, price (EUR cents), sizes, colours (name, hex)
_CATALOGUE: list[tuple[str, str, str, int, tuple[str, ...], tuple[tuple[str, str], ...]]] = [
    (
        "Lune Top-Handle Bag",
        "Bags",
        "bag",
        285000,
        ("OS",),
        (("Noir", "#1b1b1b"), ("Camel", "#b5834f")),
    ),
    (
        "Petite Lune Crossbody",
        "Bags",
        "bag",
        189000,
        ("OS",),
        (("Sky Blue", "#7fb3e0"), ("Ivory", "#efe6d2")),
    ),
    ("Atelier Tote", "Bags", "bag", 215000, ("OS",), (("Cognac", "#8a4b24"),)),
    ("Soir Clutch", "Bags", "bag", 129000, ("OS",), (("Gold", "#c9a24a"), ("Noir", "#1b1b1b"))),
    (
        "Riviera Silk Dress",
        "Ready-to-wear",
        "dress",
        245000,
        ("34", "36", "38", "40"),
        (("Sky Blue", "#7fb3e0"),),
    ),
    (
        "Opera Gown",
        "Ready-to-wear",
        "dress",
        495000,
        ("34", "36", "38"),
        (("Bordeaux", "#6d1a2a"),),
    ),
    (
        "Jardin Midi Dress",
        "Ready-to-wear",
        "dress",
        168000,
        ("36", "38", "40"),
        (("Sage", "#9caf88"), ("Rose", "#d8a7a7")),
    ),
    (
        "Cachemire Wrap Coat",
        "Ready-to-wear",
        "coat",
        390000,
        ("S", "M", "L"),
        (("Camel", "#b5834f"), ("Charcoal", "#3b3b3b")),
    ),
    (
        "Trench Aurèle",
        "Ready-to-wear",
        "coat",
        275000,
        ("S", "M", "L", "XL"),
        (("Stone", "#c8bca6"),),
    ),
    (
        "Quilted Field Jacket",
        "Ready-to-wear",
        "coat",
        198000,
        ("S", "M", "L"),
        (("Navy", "#1f2a44"),),
    ),
    (
        "Carré Silk Scarf 90",
        "Accessories",
        "scarf",
        49000,
        ("OS",),
        (("Azur", "#2f6db5"), ("Coral", "#e07a5f")),
    ),
    ("Twilly Ribbon Scarf", "Accessories", "scarf", 21000, ("OS",), (("Gold", "#c9a24a"),)),
    (
        "Cashmere Stole",
        "Accessories",
        "scarf",
        89000,
        ("OS",),
        (("Ivory", "#efe6d2"), ("Grey", "#8d8d8d")),
    ),
    (
        "Ballerine Flat",
        "Shoes",
        "shoe",
        69000,
        ("36", "37", "38", "39", "40"),
        (("Noir", "#1b1b1b"), ("Nude", "#d9b99b")),
    ),
    ("Escarpin 85", "Shoes", "shoe", 79000, ("36", "37", "38", "39"), (("Rouge", "#a4161a"),)),
    (
        "Loafer Club",
        "Shoes",
        "shoe",
        74000,
        ("40", "41", "42", "43", "44"),
        (("Cognac", "#8a4b24"),),
    ),
    (
        "Sneaker Courtside",
        "Shoes",
        "shoe",
        59000,
        ("38", "39", "40", "41", "42"),
        (("White", "#f4f4f4"),),
    ),
    (
        "Anneau Signet Ring",
        "Jewellery",
        "ring",
        125000,
        ("50", "52", "54", "56"),
        (("Gold", "#c9a24a"),),
    ),
    (
        "Constellation Ring",
        "Jewellery",
        "ring",
        340000,
        ("50", "52", "54"),
        (("White Gold", "#d9d9d9"),),
    ),
    ("Perle Band", "Jewellery", "ring", 68000, ("50", "52", "54", "56"), (("Silver", "#b0b0b0"),)),
    ("Maille Chain Ring", "Jewellery", "ring", 54000, ("52", "54"), (("Gold", "#c9a24a"),)),
    ("Weekend Duffle", "Bags", "bag", 310000, ("OS",), (("Noir", "#1b1b1b"),)),
]

_ASSOCIATES = [
    # name, email, store index, languages, specialities, colour, weekly hours (weekday, start, end)
    (
        "Camille Laurent",
        "camille@maison-aurele.example",
        0,
        "fr,en",
        "Bags,Leather goods",
        "#8a6a3b",
        [(d, time(10), time(14)) for d in range(6)] + [(d, time(15), time(19)) for d in range(6)],
    ),
    (
        "Hugo Martin",
        "hugo@maison-aurele.example",
        0,
        "fr,en,it",
        "Ready-to-wear,Tailoring",
        "#1f2a44",
        [(d, time(11), time(19)) for d in range(1, 7)],
    ),
    (
        "Mei Chen",
        "mei@maison-aurele.example",
        1,
        "zh,en",
        "Jewellery,Shoes",
        "#6d1a2a",
        [(d, time(9), time(17)) for d in range(5)],
    ),
]


@dataclass
class DemoResult:
    brand: Brand
    live_room: str
    live_session_id: int


def brand_exists(db: Session) -> bool:
    return db.exec(select(Brand).where(Brand.slug == DEMO_SLUG)).first() is not None


def _stock_for(index: int, variant_index: int) -> int:
    # A spread that shows "sold out", "2 left" and plenty on the pages.
    if index % 7 == 3 and variant_index == 0:
        return 0
    if index % 5 == 1:
        return 2
    return 4 + (index * 3 + variant_index) % 9


def _seed_catalogue(db: Session, brand_id: int, upload_dir: Path) -> list[int]:
    product_ids = []
    for index, (name, category, shape, price, sizes, colours) in enumerate(_CATALOGUE):
        slug = cat.slugify(name)
        rel = f"demo/{slug}.jpg"
        draw_product_image(upload_dir / rel, name=name, shape=shape, colour_hex=colours[0][1])
        variants = [
            cat.VariantSpec(
                sku=f"MA-{index + 1:03d}-{ci}-{size}",
                size=size,
                colour=colour,
                colour_hex=hex_,
                stock=_stock_for(index, vi),
            )
            for ci, (colour, hex_) in enumerate(colours)
            for vi, size in enumerate(sizes)
        ]
        spec = cat.ProductSpec(
            name=name,
            category=category,
            price_minor=price,
            currency="EUR",
            description=f"{name}, made in our Paris atelier.",
            image_path=rel,
            variants=variants,
        )
        product = cat.add_product(db, brand_id=brand_id, spec=spec)
        assert product.id is not None
        product_ids.append(product.id)
    db.commit()
    return product_ids


def seed_demo(db: Session, upload_dir: Path) -> DemoResult:
    brand = do_create_brand(db, slug=DEMO_SLUG, name="Maison Aurèle", currency="EUR")
    assert brand.id is not None
    brand.primary_color = "#1c1c1c"
    brand.accent_color = "#8a6a3b"
    db.add(brand)
    do_create_user(
        db,
        email=DEMO_ADMIN_EMAIL,
        name="Aurèle Admin",
        password=DEMO_PASSWORD,
        role=Role.BRAND_ADMIN,
        brand_id=brand.id,
    )
    stores = [
        cat.do_create_store(
            db,
            brand_id=brand.id,
            name="Paris Saint-Honoré",
            city="Paris",
            timezone="Europe/Paris",
            address="221 rue Saint-Honoré",
        ),
        cat.do_create_store(
            db,
            brand_id=brand.id,
            name="Shanghai Plaza 66",
            city="Shanghai",
            timezone="Asia/Shanghai",
            address="1266 Nanjing West Road",
        ),
    ]
    host_ids = []
    for name, email, store_index, languages, specialities, colour, hours in _ASSOCIATES:
        store = stores[store_index]
        assert store.id is not None
        profile = do_create_associate(
            db,
            brand_id=brand.id,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            store_ids=[store.id],
            languages=languages,
            specialities=specialities,
            bio=f"{name.split()[0]} has worked at {store.name} for years.",
        )
        assert profile.id is not None
        initials = "".join(part[0] for part in name.split())
        rel = f"demo/associate-{profile.id}.jpg"
        draw_portrait(upload_dir / rel, initials=initials, colour_hex=colour)
        profile.photo_path = rel
        db.add(profile)
        for weekday, start, end in hours:
            db.add(
                WeeklyHours(
                    associate_id=profile.id,
                    store_id=store.id,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                )
            )
        host_ids.append(profile.id)
    db.commit()
    product_ids = _seed_catalogue(db, brand.id, upload_dir)

    now = utcnow()
    live_show = lifecycle.do_create_show(
        db,
        brand_id=brand.id,
        title="The Lune bag, tried on live",
        starts_at=now,
        description="Camille shows the new Lune family: sizes, colours and how they wear.",
        host_ids=[host_ids[0]],
        product_ids=product_ids[:6],
        allow_past=True,
    )
    lifecycle.do_create_show(
        db,
        brand_id=brand.id,
        title="Spring ready-to-wear preview",
        starts_at=(now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0),
        description="Hugo walks through the spring collection, piece by piece.",
        host_ids=[host_ids[1]],
        product_ids=product_ids[4:10],
    )
    # The first associate hosts the live show, and goes live as its host.
    host = db.get(AssociateProfile, host_ids[0])
    assert host is not None
    as_host = Actor(
        kind=ActorKind.ASSOCIATE,
        name=host.display_name,
        user_id=host.user_id,
        brand_id=brand.id,
        associate_id=host.id,
    )
    live = lifecycle.do_start_show(db, as_host, live_show)
    assert live.id is not None
    return DemoResult(brand=brand, live_room=live.room, live_session_id=live.id)


def demo_live_room(db: Session) -> str | None:
    """The room the synthetic camera publishes into on `make run`."""
    brand = db.exec(select(Brand).where(Brand.slug == DEMO_SLUG)).first()
    if brand is None:
        return None
    from sessions.models import SessionStatus

    live = db.exec(
        select(LiveSession).where(
            LiveSession.brand_id == brand.id, LiveSession.status == SessionStatus.LIVE
        )
    ).first()
    return live.room if live else None
