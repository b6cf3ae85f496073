"""Languages outside a request: e-mails, .ics files and a brand's own texts.

The domain writes to people who are not looking at a page (a reminder sent by the
scheduler, a cancellation), so it cannot ask Flask-Babel for "the current locale": it takes
the recipient's language and reads the same catalogues (web/translations) through Babel.
`translator(lang).gettext("...")` is extracted like `gettext` (babel.cfg keywords).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_skeleton, format_time, get_timezone_location
from babel.support import NullTranslations, Translations
from sqlmodel import Session

# Codes as Babel knows them; the HTML `lang` attribute uses BCP 47 ("zh-Hans").
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "zh_Hans": "简体中文"}
DEFAULT_LANGUAGE = "en"
CATALOGUES = Path(__file__).resolve().parent.parent / "web" / "translations"


def normalise(code: str | None) -> str | None:
    """A language code from a URL, cookie, form or row → one of LANGUAGES, or None."""
    if not code:
        return None
    code = code.strip().replace("-", "_")
    lowered = code.lower()
    if lowered.startswith("zh"):
        # Simplified Chinese is what we ship; a zh-TW reader still reads it better than English.
        return "zh_Hans"
    base = lowered.split("_", 1)[0]
    return base if base in LANGUAGES else None


def language_or_default(code: str | None) -> str:
    return normalise(code) or DEFAULT_LANGUAGE


@functools.cache
def translator(lang: str | None) -> NullTranslations:
    """The catalogue of one language (English: the msgids themselves)."""
    code = language_or_default(lang)
    if code == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(CATALOGUES), [code])


def locale_of(lang: str | None) -> Locale:
    return Locale.parse(language_or_default(lang))


def do_set_shopper_language(session: Session, shopper_id: int, lang: str) -> None:
    """Store the language a shopper chose (the header's switch): their e-mails follow it."""
    from sessions.models import Shopper

    shopper = session.get(Shopper, shopper_id)
    if shopper is not None and shopper.language != lang:
        shopper.language = lang
        session.add(shopper)
        session.commit()


def N_(message: str) -> str:
    """Marks a message a person may read (a domain error's, an activity line's) for
    `make messages` (pybabel's default keywords include ``N_``); the web layer translates it
    into the reader's language where it is shown (web/errors.py). The one marker of the
    domain: sessions.errors re-exports it."""
    return message


# The name of a shopper who gave none, as staff screens show it.
GUEST = N_("Guest")


def guest_name(lang: str | None) -> str:
    """ "Guest" in the reader's language (None: as stored, English)."""
    return translator(lang).gettext(GUEST) if lang else GUEST


class Phrase(str):
    """An English phrase given as a message's parameter that is itself translated where the
    message is shown ("This show %(is)s" with ``Phrase(N_("is a draft"))``); any other
    parameter (a name, a number, an id) is shown as it is."""

    __slots__ = ()


class Either(tuple[Phrase, ...]):
    """Phrases offered as alternatives ("a draft or scheduled"): joined by the reader's
    word for "or"."""

    __slots__ = ()

    def __str__(self) -> str:
        return " or ".join(self)


@dataclass(frozen=True)
class Moment:
    """A moment given as a message's parameter, written where the message is shown in the
    reader's language, in the place's zone: "Tue 01 Dec, 18:30 (Paris time)",
    "mar. 1 déc., 18:30 (heure : Paris)"."""

    at: datetime
    zone: str

    def _local(self) -> datetime:
        return self.at.astimezone(ZoneInfo(self.zone))

    def _city(self, lang: str | None) -> str:
        if language_or_default(lang) == DEFAULT_LANGUAGE:
            return self.zone.rsplit("/", 1)[-1].replace("_", " ")
        return get_timezone_location(self.zone, locale=locale_of(lang), return_city=True)

    def __str__(self) -> str:
        return f"{self._local():%a %d %b, %H:%M} ({self._city(None)} time)"

    def written(self, lang: str | None, gettext: Callable[[str], str]) -> str:
        if language_or_default(lang) == DEFAULT_LANGUAGE:
            return str(self)
        locale, local = locale_of(lang), self._local()
        # The locale's own date-time join ("{1} {0}", "{1}, {0}") of its short weekday date.
        when = str(locale.datetime_formats["short"]).format(
            format_time(local, "HH:mm", locale=locale),
            format_skeleton("MMMEd", local, locale=locale),
        )
        return when + " " + gettext("(%(city)s time)") % {"city": self._city(lang)}


def english(msgid: str, params: Mapping[str, Any]) -> str:
    """The English text of a msgid with its parameters (the catalogues' source language)."""
    return msgid % {k: str(v) for k, v in params.items()} if params else msgid


def localised(
    msgid: str,
    params: Mapping[str, Any],
    gettext: Callable[[str], str],
    lang: str | None = None,
) -> str:
    """A msgid with its parameters in a reader's language, given that language's plain
    ``gettext`` (the web layer's for the request's locale, or ``translator(lang).gettext``)
    and its code (for the moments)."""
    if language_or_default(lang) == DEFAULT_LANGUAGE and lang is not None:
        return english(msgid, params)
    text = gettext(msgid)
    if not params:
        return text
    values: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Either):
            values[key] = gettext(" or ").join(gettext(p) for p in value)
        elif isinstance(value, Phrase):
            values[key] = gettext(value)
        elif isinstance(value, Moment):
            values[key] = value.written(lang, gettext)
        else:
            values[key] = value
    try:
        return text % values
    except (KeyError, ValueError, TypeError):
        # A catalogue whose placeholders drifted from its msgid (tests/i18n catches it):
        # the English text is better than no message at all.
        return english(msgid, params)


# --- messages stored to be read later (a thread's notes) -------------------------------------


def pack(msgid: str, params: Mapping[str, Any] | None = None) -> str:
    """A msgid and its parameters as stored text (JSON), to be written in each reader's
    language when read (`unpack`, `written_in`)."""
    values: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if isinstance(value, Either):
            values[key] = {"either": list(value)}
        elif isinstance(value, Phrase):
            values[key] = {"phrase": str(value)}
        elif isinstance(value, Moment):
            values[key] = {"moment": value.at.isoformat(), "zone": value.zone}
        else:
            values[key] = value
    return json.dumps({"msgid": msgid, "params": values}, ensure_ascii=False)


def unpack(stored: str) -> tuple[str, dict[str, Any]]:
    data = json.loads(stored)
    params: dict[str, Any] = {}
    for key, value in data.get("params", {}).items():
        if isinstance(value, dict) and "either" in value:
            params[key] = Either(Phrase(p) for p in value["either"])
        elif isinstance(value, dict) and "phrase" in value:
            params[key] = Phrase(value["phrase"])
        elif isinstance(value, dict) and "moment" in value:
            params[key] = Moment(datetime.fromisoformat(value["moment"]), value["zone"])
        else:
            params[key] = value
    return data["msgid"], params


def written_in(stored: str, lang: str | None) -> str:
    """A packed message in a reader's language (English for an unknown one)."""
    msgid, params = unpack(stored)
    return localised(msgid, params, translator(lang).gettext, language_or_default(lang))


def format_moment(when: datetime, zone: str | None, lang: str | None, date: str = "full") -> str:
    """A moment in a zone as the reader's language writes it, to the minute, with the zone:
    "mercredi 2 décembre 2026 à 18:30 (Europe/Paris)", "2026年12月2日星期三 18:30 (Asia/Shanghai)".
    CLDR's own date and time patterns, joined by the locale's own date-time pattern."""
    locale = locale_of(lang)
    tz = ZoneInfo(zone or "UTC")
    pattern = (
        str(locale.datetime_formats["full" if date == "full" else "medium"])
        .replace("{1}", locale.date_formats[date].pattern)
        .replace("{0}", locale.time_formats["short"].pattern)
    )
    return f"{format_datetime(when, pattern, tzinfo=tz, locale=locale)} ({tz.key})"
