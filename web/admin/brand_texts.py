"""The brand's own texts in its other languages, on the admin's product, show and settings
forms: one field per (field, language), empty meaning "use the default language's text"
(sessions/brand_texts.py)."""

from __future__ import annotations

from typing import Any

from flask import request

from sessions.brand_texts import FIELDS, all_texts, do_set_texts, other_languages
from sessions.i18n import language_or_default
from sessions.models import Brand
from web.admin import bp
from web.db import db


def form_name(field: str, lang: str) -> str:
    return f"text_{field}_{lang}"


@bp.app_template_global("brand_texts_form")
def brand_texts_form(kind: str, brand: Brand, object_id: int | None) -> dict[str, Any]:
    """What admin/_brand_texts.html shows: the fields, and their values (as posted after
    a refused save, else as stored)."""
    stored = all_texts(db(), kind, object_id) if object_id is not None else {}
    langs = other_languages(brand)
    values = {
        (field, lang): (
            request.form.get(form_name(field, lang), "")
            if request.method == "POST"
            else stored.get((field, lang), "")
        )
        for field in FIELDS[kind]
        for lang in langs
    }
    return {
        "fields": FIELDS[kind],
        "languages": langs,
        "default": language_or_default(brand.default_language),
        "values": values,
        "name": form_name,
    }


def save_brand_texts(kind: str, brand: Brand, object_id: int | None) -> None:
    """After the object itself is saved: its texts in the other languages, as posted."""
    if object_id is None or brand.id is None:
        return
    posted = {
        (field, lang): request.form.get(form_name(field, lang), "")[:5000]
        for field in FIELDS[kind]
        for lang in other_languages(brand)
        if form_name(field, lang) in request.form
    }
    do_set_texts(db(), brand.id, kind, object_id, posted)
