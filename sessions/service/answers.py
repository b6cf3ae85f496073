"""Automatic answers when nobody is free, grounded in the brand's own data.

A shopper's question is classified by simple keyword rules (English, French,
Simplified Chinese); each topic it touches is answered from the catalogue and
calendar only: stock and sizes per colour, the colour's catalogue value and a
photo, the price, a running flash offer, the next show, the next free
consultation slot. Where the data is silent the answer says so and states
nothing else. Every answer says it is automatic and that an associate will
confirm. No external AI service is involved, on purpose: an answer must never
say what the data does not.

Pure: it reads, never writes or commits, and takes the time as an argument.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location
from babel.lists import format_list
from babel.numbers import format_currency, get_currency_precision
from sqlmodel import Session, col, select

from sessions.brand_texts import localised
from sessions.catalogue import variants_of
from sessions.clock import as_utc
from sessions.models import (
    AssociateProfile,
    Brand,
    FlashOffer,
    LiveSession,
    Product,
    ProductImage,
    SessionStatus,
    Show,
    ShowProduct,
    ShowStatus,
    Store,
    Variant,
)
from sessions.service.appointments import find_slots

Lang = Literal["en", "fr", "zh"]

# How far ahead a free consultation slot is looked for (booking allows 31 days per search).
SLOT_HORIZON_DAYS = 28
# A product in many colours would make a long answer: the rest are counted, not listed.
MAX_COLOURS = 4
# Brand-wide offers listed when the shopper asks about promotions in general.
MAX_OTHER_OFFERS = 2


@dataclass(frozen=True)
class AutomaticAnswer:
    text: str  # what the shopper reads: says it is automatic and that an associate will confirm
    facts: list[str]  # each fact stated, machine-checkable ("stock:variant:12=2")
    knows: bool  # False when the data is silent on something asked (the text says so)


class Topic(enum.StrEnum):
    STOCK = "stock"
    SIZE = "size"
    COLOUR = "colour"
    PHOTO = "photo"
    PRICE = "price"
    OFFER = "offer"
    SHOW = "show"
    CONSULTATION = "consultation"


PRODUCT_TOPICS = frozenset({Topic.STOCK, Topic.SIZE, Topic.COLOUR, Topic.PHOTO, Topic.PRICE})

# --- the rules -------------------------------------------------------------------------
# Latin-script keywords are regular expressions matched as whole words on the question
# lowercased and stripped of accents ("réduction" → "reduction"); CJK keywords are plain
# substrings (Chinese has no spaces between words).

_COLOUR_WORDS = (
    r"blue|red|green|black|white|pink|grey|gray|navy|beige|brown|ivory|camel|gold|silver"
    r"|purple|yellow|orange|bleue?s?|rouges?|verte?s?|noire?s?|blanc(?:he)?s?|roses?"
    r"|grise?s?|marine|marron|ivoire|doree?s?|argentee?s?|violette?s?|jaunes?"
)

LATIN_KEYWORDS: dict[Topic, tuple[str, ...]] = {
    Topic.STOCK: (
        r"stocks?",
        r"in stock",
        r"available",
        r"availability",
        r"sold out",
        r"how many",
        r"any left",
        r"inventory",
        r"en stock",
        r"disponibles?",
        r"disponibilite",
        r"reste(?:nt)?",
        r"rupture",
        r"epuisee?s?",
        # "Do you have it in M?", "Does it come in navy?", "Il existe en 38 ?"
        r"have (?:it|one|this|that|them) in",
        r"comes? in",
        r"existe(?:nt)?",
        r"l'avez en",
        r"en avez",
    ),
    Topic.SIZE: (
        r"sizes?",
        r"sizing",
        r"fits?",
        r"tailles?",
        r"pointures?",
    ),
    Topic.COLOUR: (
        r"colou?rs?",
        r"shades?",
        r"hues?",
        r"couleurs?",
        r"teintes?",
        r"coloris",
        # "Is it a true sky blue?", "un vrai bleu ?": a colour named alone ("the ivory in
        # stock?") only picks the colour, it is not a question about it.
        rf"(?:true|real|exact|proper|vrai|vraiment|veritable)\s+(?:[a-z]+\s+)?(?:{_COLOUR_WORDS})",
    ),
    Topic.PHOTO: (r"photos?", r"pictures?", r"pics?", r"images?"),
    Topic.PRICE: (
        r"prices?",
        r"priced",
        r"costs?",
        r"how much",
        r"expensive",
        r"prix",
        r"coute(?:nt)?",
        r"c'est combien",
        r"tarifs?",
    ),
    Topic.OFFER: (
        r"promos?",
        r"promotions?",
        r"sales?",
        r"discounts?",
        r"offers?",
        r"deals?",
        r"reduced",
        r"markdowns?",
        r"soldes?",
        r"reductions?",
        r"remises?",
        r"offres?",
    ),
    Topic.SHOW: (
        # "show me the colour" is a request, not a question about a show.
        r"shows?(?!\s+(?:me|us|it|them|you|her|him)(?![a-z]))",
        r"live",
        r"live ?streams?",
        r"livestreams?",
        r"broadcasts?",
        r"en direct",
        r"emissions?",
    ),
    Topic.CONSULTATION: (
        r"appointments?",
        r"consultations?",
        r"consult",
        r"book(?:ing)?",
        r"slots?",
        r"video call",
        r"try(?:\s|-)?on",
        r"rendez[- ]?vous",
        r"rdv",
        r"creneaux?",
        r"reserver",
        r"reservation",
        r"visio",
    ),
}

CJK_KEYWORDS: dict[Topic, tuple[str, ...]] = {
    Topic.STOCK: ("有货", "库存", "现货", "还有", "缺货", "售罄", "卖完", "剩"),
    Topic.SIZE: ("尺码", "尺寸", "大小", "码数", "几码", "什么码", "均码", "合身"),
    Topic.COLOUR: ("颜色", "色"),
    Topic.PHOTO: ("照片", "图片", "实拍", "图"),
    Topic.PRICE: ("价格", "价钱", "多少钱", "售价", "贵"),
    Topic.OFFER: ("优惠", "折扣", "打折", "促销", "特价", "减价"),
    Topic.SHOW: ("直播", "节目", "秀"),
    Topic.CONSULTATION: ("预约", "咨询", "预订", "视频", "试穿", "面谈"),
}

_LATIN_PATTERNS = {
    topic: re.compile(r"(?<![a-z0-9])(?:" + "|".join(words) + r")(?![a-z0-9])")
    for topic, words in LATIN_KEYWORDS.items()
}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_FRENCH_ACCENTS = re.compile(r"[àâçéèêëîïôûùüÿœæ]")
_WORDS = re.compile(r"[a-zàâçéèêëîïôûùüÿœæ]+")
_FRENCH_WORDS = frozenset(
    str.split(
        "le la les un une des du de est et en je vous tu il elle ce cette ces pour avec dans sur "
        "quel quelle quels quelles quand combien avez avons pas ne mon ma mes votre vos bonjour "
        "merci taille couleur prochain prochaine reste disponible au aux qui que oui non"
    )
)
_ENGLISH_WORDS = frozenset(
    str.split(
        "the an is are do does you it in of and what when how which have has any there this "
        "that size colour color next available hello hi please can my your for with on me"
    )
)


def normalise(text: str) -> str:
    """Lowercase, typographic apostrophes made plain, accents removed: 'Réduction' → 'reduction'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect_language(question: str) -> Lang:
    """Chinese characters → zh; more French than English markers → fr; otherwise en."""
    if _CJK.search(question):
        return "zh"
    lowered = question.casefold()
    words = _WORDS.findall(lowered)
    french = sum(w in _FRENCH_WORDS for w in words) + bool(_FRENCH_ACCENTS.search(lowered))
    english = sum(w in _ENGLISH_WORDS for w in words)
    return "fr" if french > english else "en"


def classify(question: str) -> frozenset[Topic]:
    """Every topic the question touches (several may apply); empty when no rule matches."""
    plain = normalise(question)
    found = {topic for topic, pattern in _LATIN_PATTERNS.items() if pattern.search(plain)}
    found |= {t for t, words in CJK_KEYWORDS.items() if any(w in question for w in words)}
    return frozenset(found)


# --- the phrases -------------------------------------------------------------------------
# Every sentence the shopper may read, per language, in one table for translators.
# Placeholders are str.format fields; dates, money and lists are formatted by Babel.

PHRASES: dict[str, dict[Lang, str]] = {
    "header": {
        "en": "Automatic answer: nobody is free to reply just now.",
        "fr": "Réponse automatique : personne n'est disponible pour vous répondre à l'instant.",
        "zh": "自动回复：目前没有顾问可以即时回复。",
    },
    "footer": {
        "en": "An associate will confirm when they are back.",
        "fr": "Un conseiller vous le confirmera dès son retour.",
        "zh": "顾问回来后会为您确认。",
    },
    "unknown": {
        "en": "I can't answer this from our catalogue and calendar.",
        "fr": "Je ne peux pas répondre à cette question à partir du catalogue et de l'agenda.",
        "zh": "我无法根据商品目录和日程回答这个问题。",
    },
    "no_product": {
        "en": "I can't see which piece you are looking at, so I can't tell you about it.",
        "fr": "Je ne vois pas quelle pièce vous regardez : je ne peux donc pas vous renseigner.",
        "zh": "我看不到您正在浏览哪件商品，因此无法为您解答。",
    },
    "subject": {
        "en": "The {product} in {colour}",
        "fr": "{product} en {colour}",
        "zh": "{product}（{colour}）",
    },
    "subject_plain": {"en": "The {product}", "fr": "{product}", "zh": "{product}"},
    "one_size_left": {
        "en": "{subject}: {count} left, one size.",
        "fr": "{subject} : {count} en stock, taille unique.",
        "zh": "{subject}：剩 {count} 件，均码。",
    },
    "one_size_sold_out": {
        "en": "{subject}: sold out, one size.",
        "fr": "{subject} : épuisé, taille unique.",
        "zh": "{subject}：已售罄，均码。",
    },
    "size_left": {
        "en": "{count} left in {size}",
        "fr": "{count} en taille {size}",
        "zh": "{size} 码剩 {count} 件",
    },
    "sizes_left": {
        "en": "{subject}: {left}.",
        "fr": "{subject} : {left}.",
        "zh": "{subject}：{left}。",
    },
    "sizes_left_sold": {
        "en": "{subject}: {left}; sold out in {sold}.",
        "fr": "{subject} : {left} ; épuisé en taille {sold}.",
        "zh": "{subject}：{left}；{sold} 码已售罄。",
    },
    "sizes_sold": {
        "en": "{subject}: sold out in {sold}.",
        "fr": "{subject} : épuisé en taille {sold}.",
        "zh": "{subject}：{sold} 码已售罄。",
    },
    "one_size": {"en": "one size", "fr": "unique", "zh": "均"},
    "more_colours": {
        "en": "The catalogue has {count} more colours of it.",
        "fr": "Le catalogue en propose {count} autres coloris.",
        "zh": "目录中还有另外 {count} 种颜色。",
    },
    "no_variants": {
        "en": "I can't see stock or sizes for the {product} in the catalogue.",
        "fr": "Je ne vois ni stock ni tailles pour {product} dans le catalogue.",
        "zh": "目录中没有{product}的库存或尺码信息。",
    },
    "colour_hex": {
        "en": "The catalogue lists {colour} as {hex}.",
        "fr": "Le catalogue indique {hex} pour le coloris {colour}.",
        "zh": "目录中{colour}的色值为 {hex}。",
    },
    "colour_no_hex": {
        "en": "The catalogue gives no colour value for {colour}.",
        "fr": "Le catalogue ne donne pas de valeur de couleur pour le coloris {colour}.",
        "zh": "目录中没有{colour}的色值。",
    },
    "colour_unnamed": {
        "en": "The catalogue names no colour for the {product}.",
        "fr": "Le catalogue ne nomme aucun coloris pour {product}.",
        "zh": "目录中没有标注{product}的颜色。",
    },
    "photo": {"en": "Photo: {url}", "fr": "Photo : {url}", "zh": "照片：{url}"},
    "no_photo": {
        "en": "There is no photo of the {product} in the catalogue yet.",
        "fr": "Le catalogue n'a pas encore de photo de {product}.",
        "zh": "目录中暂时没有{product}的照片。",
    },
    "price": {
        "en": "The {product} is {price}.",
        "fr": "{product} : {price}.",
        "zh": "{product}的价格为 {price}。",
    },
    "price_range": {
        "en": "The {product} is from {low} to {high}, depending on size and colour.",
        "fr": "{product} : de {low} à {high} selon la taille et le coloris.",
        "zh": "{product}的价格为 {low} 至 {high}，视尺码和颜色而定。",
    },
    "offer_product": {
        "en": "Live offer on the {product}: {price} instead of {regular}, until {until}, "
        "{remaining} left at this price.",
        "fr": "Offre en direct sur {product} : {price} au lieu de {regular}, jusqu'à {until}, "
        "encore {remaining} à ce prix.",
        "zh": "{product}正在直播特惠：{price}（原价 {regular}），截至{until}，"
        "此价格还剩 {remaining} 件。",
    },
    "offer_other": {
        "en": "A live offer is on the {product}: {price} until {until}.",
        "fr": "Une offre en direct porte sur {product} : {price} jusqu'à {until}.",
        "zh": "{product}正在直播特惠：{price}，截至{until}。",
    },
    "no_offer_product": {
        "en": "I can't see a promotion on this piece right now.",
        "fr": "Je ne vois pas de promotion sur cette pièce en ce moment.",
        "zh": "目前我看不到这件商品的优惠。",
    },
    "no_offer": {
        "en": "I can't see a promotion running right now.",
        "fr": "Je ne vois pas de promotion en cours en ce moment.",
        "zh": "目前我看不到正在进行的优惠。",
    },
    "show_next": {
        "en": "The next show is “{title}”, {when}.",
        "fr": "Le prochain live est « {title} », {when}.",
        "zh": "下一场直播是“{title}”，时间为{when}。",
    },
    "show_live": {
        "en": "“{title}” is live now.",
        "fr": "« {title} » est en direct en ce moment.",
        "zh": "“{title}”正在直播。",
    },
    "show_lists": {
        "en": "The {product} is in it.",
        "fr": "{product} y est présenté.",
        "zh": "{product}在这场直播中。",
    },
    "show_omits": {
        "en": "The {product} isn't listed for it.",
        "fr": "{product} n'est pas au programme.",
        "zh": "{product}不在这场直播的商品清单中。",
    },
    "no_show": {
        "en": "I can't see a show scheduled yet.",
        "fr": "Je ne vois pas encore de live programmé.",
        "zh": "目前我看不到已安排的直播。",
    },
    "slot": {
        "en": "The next free consultation is {when}, with {associate}.",
        "fr": "Le prochain créneau de consultation libre est {when}, avec {associate}.",
        "zh": "最近的空闲咨询时段是{when}，顾问为{associate}。",
    },
    "no_slot": {
        "en": "I can't see a free consultation slot in the next {days} days.",
        "fr": "Je ne vois pas de créneau de consultation libre dans les {days} prochains jours.",
        "zh": "未来 {days} 天内我看不到空闲的咨询时段。",
    },
    "when": {
        "en": "{date} at {time} ({city} time)",
        "fr": "{date} à {time} (heure de {city})",
        "zh": "{date} {time}（{city}时间）",
    },
    "when_utc": {
        "en": "{date} at {time} UTC",
        "fr": "{date} à {time} UTC",
        "zh": "{date} {time}（UTC）",
    },
    "today": {"en": "today", "fr": "aujourd'hui", "zh": "今天"},
    # Babel (CLDR) date patterns, not sentences: "Thursday 3 December", "jeudi 3 décembre".
    "date": {"en": "EEEE d MMMM", "fr": "EEEE d MMMM", "zh": "M月d日EEEE"},
    "date_with_year": {"en": "EEEE d MMMM y", "fr": "EEEE d MMMM y", "zh": "y年M月d日EEEE"},
}

LOCALES: dict[Lang, str] = {"en": "en", "fr": "fr", "zh": "zh_Hans"}


def phrase(key: str, lang: Lang, **values: object) -> str:
    return PHRASES[key][lang].format(**values)


def money(minor: int, currency: str, lang: Lang) -> str:
    """Minor units to the currency's own major units, written the reader's way."""
    major = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(major, currency, locale=LOCALES[lang])


def listing(items: list[str], lang: Lang) -> str:
    return format_list(items, locale=LOCALES[lang])


def when(instant: datetime, zone: str, lang: Lang, now: datetime) -> str:
    """A moment in a store's own zone, with the zone named: 'Thursday 3 December at 18:00
    (Paris time)'; 'today at …' when it is today there."""
    tz = ZoneInfo(zone)
    local, local_now = instant.astimezone(tz), now.astimezone(tz)
    locale = LOCALES[lang]
    if local.date() == local_now.date():
        date = phrase("today", lang)
    else:
        pattern = "date" if local.year == local_now.year else "date_with_year"
        date = format_datetime(local, PHRASES[pattern][lang], locale=locale)
    time = format_datetime(local, "HH:mm", locale=locale)
    if zone == "UTC" or zone.startswith("Etc/"):
        return phrase("when_utc", lang, date=date, time=time)
    city = get_timezone_location(tz, locale=locale, return_city=True)
    return phrase("when", lang, date=date, time=time, city=city)


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def image_url(path: str) -> str:
    """Catalogue pictures are public, under /uploads/ (sessions.live.product_card does the same)."""
    return path if path.startswith(("http://", "https://", "/")) else f"/uploads/{path}"


# --- reading the brand's data -----------------------------------------------------------


@dataclass
class Part:
    """What one topic contributes: sentences, the facts they state, whether data answered."""

    lines: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    knows: bool = True


@dataclass
class Context:
    db: Session
    brand: Brand
    lang: Lang
    now: datetime
    question: str
    product: Product | None
    variants: list[Variant]

    def say(self, key: str, **values: object) -> str:
        return phrase(key, self.lang, **values)


def brand_product(db: Session, brand: Brand, product_id: int | None) -> Product | None:
    """The product being looked at, if it is this brand's and on sale; never another's."""
    if product_id is None:
        return None
    product = db.get(Product, product_id)
    if product is None or product.brand_id != brand.id or not product.is_active:
        return None
    return product


def brand_variants(db: Session, brand: Brand, product: Product | None) -> list[Variant]:
    """The product's variants that are this brand's rows (Variant has no active flag yet)."""
    if product is None or product.id is None:
        return []
    return [v for v in variants_of(db, product.id) if v.brand_id == brand.id]


def default_zone(db: Session, brand: Brand) -> str:
    """The brand has no zone of its own: its first store's, as the show form assumes."""
    store = db.exec(select(Store).where(Store.brand_id == brand.id).order_by(col(Store.id))).first()
    return store.timezone if store else "UTC"


def store_zone(db: Session, brand: Brand, store_id: int | None) -> str:
    store = db.get(Store, store_id) if store_id is not None else None
    if store is None or store.brand_id != brand.id:
        return default_zone(db, brand)
    return store.timezone


def colour_groups(variants: list[Variant]) -> dict[str, list[Variant]]:
    """Variants by colour, in catalogue order."""
    groups: dict[str, list[Variant]] = {}
    for variant in variants:
        groups.setdefault(variant.colour.strip(), []).append(variant)
    return groups


def asked_colours(ctx: Context, groups: dict[str, list[Variant]]) -> dict[str, list[Variant]]:
    """Only the colours the question names ("is the sky blue…"), or all when it names none."""
    plain = normalise(ctx.question)
    named = {
        name: rows
        for name, rows in groups.items()
        if name and re.search(rf"(?<!\w){re.escape(normalise(name))}(?!\w)", plain)
    }
    return named or groups


def subject(ctx: Context, colour: str) -> str:
    assert ctx.product is not None
    if colour:
        return ctx.say("subject", product=ctx.product.name, colour=colour)
    return ctx.say("subject_plain", product=ctx.product.name)


# --- one function per topic -----------------------------------------------------------------

_ONE_SIZE = frozenset({"", "os", "o/s", "one size", "onesize", "tu", "taille unique", "u", "均码"})


def stock_line(ctx: Context, colour: str, rows: list[Variant]) -> str:
    who = subject(ctx, colour)
    if len(rows) == 1 and rows[0].size.strip().casefold() in _ONE_SIZE:
        count = rows[0].stock
        if count > 0:
            return ctx.say("one_size_left", subject=who, count=count)
        return ctx.say("one_size_sold_out", subject=who)
    label = ctx.say("one_size")
    left = [ctx.say("size_left", count=v.stock, size=v.size or label) for v in rows if v.stock]
    sold = [v.size or label for v in rows if not v.stock]
    if not left:
        return ctx.say("sizes_sold", subject=who, sold=listing(sold, ctx.lang))
    if not sold:
        return ctx.say("sizes_left", subject=who, left=listing(left, ctx.lang))
    return ctx.say(
        "sizes_left_sold",
        subject=who,
        left=listing(left, ctx.lang),
        sold=listing(sold, ctx.lang),
    )


def answer_stock(ctx: Context) -> Part:
    """Stock and sizes, per colour: '2 left, one size', 'sold out in M'."""
    assert ctx.product is not None
    if not ctx.variants:
        return Part(
            [ctx.say("no_variants", product=ctx.product.name)],
            [f"stock:product:{ctx.product.id}=none"],
            knows=False,
        )
    part = Part()
    groups = asked_colours(ctx, colour_groups(ctx.variants))
    for colour, rows in list(groups.items())[:MAX_COLOURS]:
        part.lines.append(stock_line(ctx, colour, rows))
        for v in rows:
            part.facts += [f"stock:variant:{v.id}={v.stock}", f"size:variant:{v.id}={v.size}"]
            if colour:
                part.facts.append(f"colour:variant:{v.id}={colour}")
    if len(groups) > MAX_COLOURS:
        part.lines.append(ctx.say("more_colours", count=len(groups) - MAX_COLOURS))
    return part


def answer_colour(ctx: Context) -> Part:
    """The catalogue's reference value of each colour, never a claim of a measurement."""
    assert ctx.product is not None
    groups = asked_colours(ctx, colour_groups(ctx.variants))
    if not any(groups):
        return Part([ctx.say("colour_unnamed", product=ctx.product.name)], [], knows=False)
    part = Part()
    for colour, rows in list(groups.items())[:MAX_COLOURS]:
        if not colour:
            continue
        hexes = list(dict.fromkeys(v.colour_hex.upper() for v in rows if v.colour_hex))
        if hexes:
            text = format_list(hexes, style="or", locale=LOCALES[ctx.lang])
            part.lines.append(ctx.say("colour_hex", colour=colour, hex=text))
        else:
            part.lines.append(ctx.say("colour_no_hex", colour=colour))
            part.knows = False
        for v in rows:
            value = v.colour_hex.upper() if v.colour_hex else "none"
            part.facts.append(f"colour_hex:variant:{v.id}={value}")
    return part


def photo_of(ctx: Context) -> tuple[str, str] | None:
    """(fact key, url): the asked colour's own picture, else the product's, else its gallery."""
    assert ctx.product is not None
    for rows in asked_colours(ctx, colour_groups(ctx.variants)).values():
        for v in rows:
            if v.image_path:
                return f"photo:variant:{v.id}", image_url(v.image_path)
    if ctx.product.image_path:
        return f"photo:product:{ctx.product.id}", image_url(ctx.product.image_path)
    gallery = ctx.db.exec(
        select(ProductImage)
        .where(ProductImage.product_id == ctx.product.id)
        .order_by(col(ProductImage.position), col(ProductImage.id))
    ).first()
    if gallery is not None:
        return f"photo:product:{ctx.product.id}", image_url(gallery.path)
    return None


def answer_photo(ctx: Context, *, asked: bool) -> Part:
    """A real photo if the catalogue has one; says there is none only when asked for one."""
    assert ctx.product is not None
    found = photo_of(ctx)
    if found is not None:
        key, url = found
        return Part([ctx.say("photo", url=url)], [f"{key}={url}"])
    if not asked:
        return Part()
    return Part(
        [ctx.say("no_photo", product=ctx.product.name)],
        [f"photo:product:{ctx.product.id}=none"],
        knows=False,
    )


def answer_price(ctx: Context) -> Part:
    product = ctx.product
    assert product is not None
    prices = {
        v.id: v.price_minor if v.price_minor is not None else product.price_minor
        for v in ctx.variants
    }
    distinct = sorted(set(prices.values())) or [product.price_minor]
    cur = product.currency
    if len(distinct) == 1:
        line = ctx.say("price", product=product.name, price=money(distinct[0], cur, ctx.lang))
        return Part([line], [f"price:product:{product.id}={distinct[0]} {cur}"])
    line = ctx.say(
        "price_range",
        product=product.name,
        low=money(distinct[0], cur, ctx.lang),
        high=money(distinct[-1], cur, ctx.lang),
    )
    return Part([line], [f"price:variant:{vid}={minor} {cur}" for vid, minor in prices.items()])


def running_offers(ctx: Context) -> list[tuple[FlashOffer, Product, LiveSession]]:
    """The brand's flash offers open right now, on its active products, soonest ending first."""
    rows = ctx.db.exec(
        select(FlashOffer, Product, LiveSession)
        .join(Product, col(Product.id) == col(FlashOffer.product_id))
        .join(LiveSession, col(LiveSession.id) == col(FlashOffer.live_session_id))
        .where(
            LiveSession.brand_id == ctx.brand.id,
            LiveSession.status != SessionStatus.ENDED,
            Product.brand_id == ctx.brand.id,
            col(Product.is_active).is_(True),
            col(FlashOffer.cancelled_at).is_(None),
            FlashOffer.starts_at <= ctx.now,
            FlashOffer.ends_at > ctx.now,
            col(FlashOffer.claimed) < col(FlashOffer.quantity),
        )
        .order_by(col(FlashOffer.ends_at), col(FlashOffer.id))
    ).all()
    return [(offer, product, live) for offer, product, live in rows]


def offer_zone(ctx: Context, live: LiveSession) -> str:
    show = ctx.db.get(Show, live.show_id) if live.show_id is not None else None
    return store_zone(ctx.db, ctx.brand, show.store_id if show else None)


def offer_facts(offer: FlashOffer, product: Product) -> list[str]:
    return [
        f"offer:{offer.id}:product={product.id}",
        f"offer:{offer.id}:price={offer.price_minor} {product.currency}",
        f"offer:{offer.id}:ends_at={iso(offer.ends_at)}",
        f"offer:{offer.id}:remaining={offer.quantity - offer.claimed}",
    ]


def offer_line(
    ctx: Context, key: str, offer: FlashOffer, product: Product, live: LiveSession
) -> str:
    return ctx.say(
        key,
        product=product.name,
        price=money(offer.price_minor, product.currency, ctx.lang),
        regular=money(product.price_minor, product.currency, ctx.lang),
        until=when(offer.ends_at, offer_zone(ctx, live), ctx.lang, ctx.now),
        remaining=offer.quantity - offer.claimed,
    )


def answer_offer(ctx: Context, *, asked: bool) -> Part:
    """The offer on this piece; else, when promotions were asked about, say there is none
    here and name the brand's other running offers."""
    offers = running_offers(ctx)
    if ctx.product is not None:
        mine = [o for o in offers if o[1].id == ctx.product.id]
        if mine:
            offer, product, live = mine[0]
            return Part([offer_line(ctx, "offer_product", *mine[0])], offer_facts(offer, product))
        if not asked:
            return Part()
        part = Part([ctx.say("no_offer_product")], [f"offer:product:{ctx.product.id}=none"], False)
    elif offers:
        part = Part()
    else:
        return Part([ctx.say("no_offer")], ["offer=none"], knows=False)
    for offer, product, live in offers[:MAX_OTHER_OFFERS]:
        part.lines.append(offer_line(ctx, "offer_other", offer, product, live))
        part.facts += offer_facts(offer, product)
    return part


def shows_to_mention(ctx: Context) -> list[Show]:
    """The brand's show live now, if any, and its earliest scheduled one still to come."""
    live = ctx.db.exec(
        select(Show)
        .where(
            Show.brand_id == ctx.brand.id,
            Show.status == ShowStatus.LIVE,
            col(Show.access_code_hash).is_(None),
        )
        .order_by(col(Show.starts_at), col(Show.id))
    ).first()
    upcoming = ctx.db.exec(
        select(Show)
        .where(
            Show.brand_id == ctx.brand.id,
            Show.status == ShowStatus.SCHEDULED,
            Show.starts_at >= ctx.now,
            col(Show.access_code_hash).is_(None),
        )
        .order_by(col(Show.starts_at), col(Show.id))
    ).first()
    return [show for show in (live, upcoming) if show is not None]


def show_lines(ctx: Context, show: Show) -> Part:
    part = Part(
        facts=[f"show:{show.id}:title={show.title}", f"show:{show.id}:status={show.status}"]
    )
    if show.status is ShowStatus.LIVE:
        part.lines.append(ctx.say("show_live", title=show.title))
    else:
        zone = store_zone(ctx.db, ctx.brand, show.store_id)
        at = when(show.starts_at, zone, ctx.lang, ctx.now)
        part.lines.append(ctx.say("show_next", title=show.title, when=at))
        part.facts.append(f"show:{show.id}:starts_at={iso(show.starts_at)}")
    if ctx.product is not None:
        listed = ctx.db.exec(
            select(ShowProduct).where(
                ShowProduct.show_id == show.id, ShowProduct.product_id == ctx.product.id
            )
        ).first()
        part.lines.append(
            ctx.say("show_lists" if listed else "show_omits", product=ctx.product.name)
        )
        state = "listed" if listed else "not_listed"
        part.facts.append(f"show:{show.id}:product:{ctx.product.id}={state}")
    return part


def answer_show(ctx: Context) -> Part:
    shows = shows_to_mention(ctx)
    if not shows:
        return Part([ctx.say("no_show")], ["show=none"], knows=False)
    parts = [show_lines(ctx, show) for show in shows]
    return Part([line for p in parts for line in p.lines], [f for p in parts for f in p.facts])


def answer_consultation(ctx: Context) -> Part:
    """The earliest free slot of any of the brand's associates (the availability rules)."""
    assert ctx.brand.id is not None
    horizon = ctx.now + timedelta(days=SLOT_HORIZON_DAYS)
    slots = find_slots(ctx.db, ctx.brand.id, start=ctx.now, end=horizon, now=ctx.now)
    if not slots:
        return Part([ctx.say("no_slot", days=SLOT_HORIZON_DAYS)], ["slot=none"], knows=False)
    slot = slots[0]
    profile = ctx.db.get(AssociateProfile, slot.associate_id)
    assert profile is not None
    at = when(slot.starts_at, store_zone(ctx.db, ctx.brand, slot.store_id), ctx.lang, ctx.now)
    return Part(
        [ctx.say("slot", when=at, associate=profile.display_name)],
        [f"slot:associate:{slot.associate_id}:store:{slot.store_id}={iso(slot.starts_at)}"],
    )


def product_parts(ctx: Context, topics: frozenset[Topic]) -> Iterable[Part]:
    if not topics & PRODUCT_TOPICS:
        return
    if ctx.product is None:
        yield Part([ctx.say("no_product")], ["product=none"], knows=False)
        return
    if topics & {Topic.STOCK, Topic.SIZE}:
        yield answer_stock(ctx)
    if Topic.COLOUR in topics:
        yield answer_colour(ctx)
    if topics & {Topic.COLOUR, Topic.PHOTO}:
        yield answer_photo(ctx, asked=Topic.PHOTO in topics)
    if Topic.PRICE in topics:
        yield answer_price(ctx)
        if Topic.OFFER not in topics:
            yield answer_offer(ctx, asked=False)  # the price a shopper would pay now


CALENDAR_TOPICS: list[tuple[Topic, Callable[[Context], Part]]] = [
    (Topic.OFFER, lambda ctx: answer_offer(ctx, asked=True)),
    (Topic.SHOW, answer_show),
    (Topic.CONSULTATION, answer_consultation),
]


def automatic_answer(
    db: Session, brand: Brand, *, question: str, product_id: int | None, now: datetime
) -> AutomaticAnswer:
    """Answer a shopper's question from the brand's data, saying plainly what it cannot see."""
    now = as_utc(now)
    lang = detect_language(question)
    topics = classify(question)
    product = brand_product(db, brand, product_id)
    ctx = Context(db, brand, lang, now, question, product, brand_variants(db, brand, product))
    parts = list(product_parts(ctx, topics))
    parts += [answer(ctx) for topic, answer in CALENDAR_TOPICS if topic in topics]
    parts = [p for p in parts if p.lines]
    if not parts:
        offline = localised(db, "brand", brand, "offline_message", LOCALES[lang])
        parts = [Part([ctx.say("unknown"), offline.strip()], [], knows=False)]
    lines = [ctx.say("header")] + [line for p in parts for line in p.lines if line]
    lines.append(ctx.say("footer"))
    return AutomaticAnswer(
        text="\n".join(lines),
        facts=[fact for p in parts for fact in p.facts],
        knows=all(p.knows for p in parts),
    )
