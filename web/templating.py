"""Template globals: the current actor, money formatting, the CSRF token."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency, get_currency_precision
from flask import Flask, g, has_request_context
from flask_babel import get_locale

from web.colour_words import colour_words
from web.identity import current_actor


def minor_to_amount(amount_minor: int, currency: str) -> Decimal:
    """Minor units (cents, or yen: CLDR says how many digits a currency has) → an amount."""
    return Decimal(amount_minor).scaleb(-get_currency_precision(currency))


def format_money(amount_minor: int, currency: str, locale: object = None) -> str:
    """A price as the page's locale writes it (Babel, CLDR): "1 250,00 €" in French,
    "€1,250.00" in English, "¥1,250" for yen. `locale` overrides the page's (e-mails)."""
    if locale is None:
        locale = get_locale() if has_request_context() else None
    return _formatted(amount_minor, currency, str(locale or "en"))


@lru_cache(maxsize=4096)
def _formatted(amount_minor: int, currency: str, locale: str) -> str:
    # Babel formats a price in about 30 µs, and a show page writes one per card and per
    # bag line, each time the same few prices (docs/performance.md): remembered.
    return format_currency(minor_to_amount(amount_minor, currency), currency, locale=locale)


def brand_text(kind: str, obj: object, field: str) -> str:
    """A brand's own text (a show's title, a product's name...) in the page's language,
    falling back to the brand's default (sessions/brand_texts.py). Cached per request."""
    from sessions.brand_texts import localised
    from web.db import db
    from web.i18n import current_language

    cache: dict[tuple[str, object, str], str] = g.setdefault("brand_texts", {})
    key = (kind, getattr(obj, "id", None), field)
    if key[1] is None or key not in cache:
        cache[key] = localised(db(), kind, obj, field, current_language())
    return cache[key]


def brand_texts_of(kind: str, obj: Any, fields: tuple[str, ...]) -> dict[Any, str]:
    """What ``brand_text`` would find for these fields of one object in the page's
    language, in one query; handed to ``remember_brand_texts`` (a page may keep it)."""
    from sessions.brand_texts import texts_for
    from web.db import db
    from web.i18n import current_language

    found = texts_for(db(), kind, [obj.id], current_language())
    return {(kind, obj.id, f): found.get((obj.id, f), str(getattr(obj, f) or "")) for f in fields}


def remember_brand_texts(texts: dict[Any, str]) -> None:
    """Texts ``brand_text`` need not look up again in this request."""
    g.setdefault("brand_texts", {}).update(texts)


def local_name(item: dict[str, Any]) -> str:
    """A card's or bag line's name in the page's language (its `names`), else its own."""
    from web.i18n import current_language

    names = item.get("names") or {}
    return str(names.get(current_language()) or item.get("name") or "")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.globals["local_name"] = local_name
    app.jinja_env.globals["show_text"] = lambda show, field: brand_text("show", show, field)
    app.jinja_env.globals["product_text"] = lambda item, field: brand_text("product", item, field)
    app.jinja_env.globals["colour_words"] = colour_words

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"actor": current_actor()}
