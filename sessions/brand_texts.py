"""A brand's own texts per language, falling back to the brand's default language.

The text in the brand's `default_language` is the model's own column (Show.title,
Product.name, Brand.offline_message...); each other language is a BrandText row. A page
asks for its language: a row if the brand gave one, else the column. Admin forms write the
rows with `do_set_texts` (an empty text removes the row: back to the fallback).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from sessions.i18n import LANGUAGES, language_or_default, normalise
from sessions.models import Brand, BrandText

# What can be given per language, by kind of object: the field names of the models.
FIELDS: dict[str, tuple[str, ...]] = {
    "brand": ("offline_message",),
    "show": ("title", "description"),
    "product": ("name", "description"),
}


def other_languages(brand: Brand) -> list[str]:
    """The languages an admin may give besides the brand's default (form fields)."""
    default = language_or_default(brand.default_language)
    return [code for code in LANGUAGES if code != default]


# Built once with a parameter: sessions/db.py, "statements built once".
_TEXTS = select(BrandText).where(
    BrandText.kind == bindparam("kind"),
    col(BrandText.object_id).in_(bindparam("ids", expanding=True)),
    BrandText.language == bindparam("language"),
)


def texts_for(
    session: Session, kind: str, object_ids: Iterable[int], lang: str | None
) -> dict[tuple[int, str], str]:
    """(object id, field) → text in `lang`, for the objects that have one."""
    ids = [i for i in object_ids if i is not None]
    code = language_or_default(lang)
    if not ids:
        return {}
    rows = session.exec(_TEXTS, params={"kind": kind, "ids": ids, "language": code}).all()
    return {(row.object_id, row.field): row.text for row in rows if row.text.strip()}


def localised(session: Session, kind: str, obj: object, field: str, lang: str | None) -> str:
    """One field of one object in `lang`, or the object's own text (the brand's default)."""
    object_id = getattr(obj, "id", None)
    own = getattr(obj, field) or ""
    if object_id is None:
        return str(own)
    found = texts_for(session, kind, [object_id], lang)
    return found.get((object_id, field), str(own))


def all_texts(session: Session, kind: str, object_id: int) -> dict[tuple[str, str], str]:
    """(field, language) → text: what an admin form shows."""
    rows = session.exec(
        select(BrandText).where(BrandText.kind == kind, BrandText.object_id == object_id)
    ).all()
    return {(row.field, row.language): row.text for row in rows}


def do_set_texts(
    session: Session,
    brand_id: int,
    kind: str,
    object_id: int,
    texts: Mapping[tuple[str, str], str],
) -> None:
    """Write (field, language) → text for one object; an empty text removes the row."""
    existing = {
        (row.field, row.language): row
        for row in session.exec(
            select(BrandText).where(BrandText.kind == kind, BrandText.object_id == object_id)
        ).all()
    }
    for (field, lang), text in texts.items():
        if field not in FIELDS[kind] or lang not in LANGUAGES:
            continue
        row = existing.get((field, lang))
        value = text.strip()
        if not value:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = BrandText(
                brand_id=brand_id,
                kind=kind,
                object_id=object_id,
                field=field,
                language=lang,
                text=value,
            )
        else:
            row.text = value
        session.add(row)
    session.commit()


# Built once with parameters: sessions/db.py, "statements built once".
_NAMES_OF = select(BrandText).where(
    BrandText.kind == bindparam("kind"),
    BrandText.object_id == bindparam("object"),
    BrandText.field == bindparam("field"),
)


def names_by_language(
    session: Session, kind: str, object_id: int | None, field: str
) -> dict[str, str]:
    """language → text of one field given per language: sent with pushed cards and bags, so
    each viewer of a room shows the name in their own language (ui.js localName)."""
    if object_id is None:
        return {}
    params = {"kind": kind, "object": object_id, "field": field}
    rows = session.exec(_NAMES_OF, params=params).all()
    return {row.language: row.text for row in rows if row.text.strip()}


def names_by_language_of(
    session: Session, kind: str, object_ids: list[int], field: str
) -> dict[int, dict[str, str]]:
    """:func:`names_by_language` of several objects in one read: id → language → text."""
    out: dict[int, dict[str, str]] = {}
    if not object_ids:
        return out
    rows = session.exec(
        select(BrandText).where(
            BrandText.kind == kind,
            col(BrandText.object_id).in_(object_ids),
            BrandText.field == field,
        )
    ).all()
    for row in rows:
        if row.text.strip():
            out.setdefault(row.object_id, {})[row.language] = row.text
    return out


def do_set_default_language(session: Session, brand: Brand, lang: object) -> None:
    """The language the brand's own columns are written in; an unknown code changes nothing."""
    code = normalise(lang if isinstance(lang, str) else None)
    if code is None or code == brand.default_language:
        return
    brand.default_language = code
    session.add(brand)
    session.commit()
