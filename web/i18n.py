"""The page's language: Flask-Babel, with the shopper's choice remembered in a cookie.

Order of precedence: `?lang=` on the request that switches (the switch form posts to
`/lang`, which sets the cookie), a signed-in staff member's own language (their console
settings), the `vitrine_lang` cookie, then the browser's
`Accept-Language`, then English. Templates use `_()` / `ngettext()`; Python code uses
`flask_babel.gettext` / `lazy_gettext`. Catalogues live in web/translations
(`make messages` extracts and updates them, `make compile-messages` builds the .mo files).

The page modules (web/static/js) mark their strings `t("...")`, and count sentences
`tn("%(n)s item", "%(n)s items", n)`; `pybabel extract` reads them (babel.cfg) and every
page renders their translations as one JSON block (`#vitrine-i18n`, read by ui.js): no
inline script, no second request. A plural message carries all its forms and the block
names the language's CLDR categories in form order, so the browser's Intl.PluralRules
picks the form as gettext's Plural-Forms would.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from babel.messages.extract import extract_from_dir
from flask import (
    Blueprint,
    Flask,
    g,
    has_app_context,
    has_request_context,
    redirect,
    request,
    session,
)
from flask_babel import Babel, get_locale, get_translations, gettext
from werkzeug.wrappers import Response

from sessions.i18n import DEFAULT_LANGUAGE, LANGUAGES, format_moment, normalise
from web.redirects import safe_next

COOKIE = "vitrine_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

__all__ = ["COOKIE", "DEFAULT_LANGUAGE", "LANGUAGES", "babel", "bp", "init_app", "normalise"]

babel = Babel()
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = (
        normalise(request.args.get("lang"))
        or staff_language()
        or normalise(request.cookies.get(COOKIE))
    )
    if chosen:
        return chosen
    # Accept-Language: werkzeug's best_match compares language tags with their region.
    offered = [c.replace("_", "-") for c in LANGUAGES] + ["zh", "zh-CN", "zh-SG"]
    best = request.accept_languages.best_match(offered)
    return normalise(best) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The page's language as one of LANGUAGES ("zh_Hans", not Babel's "zh_Hans_CN")."""
    return normalise(str(get_locale() or DEFAULT_LANGUAGE)) or DEFAULT_LANGUAGE


def staff_language() -> str | None:
    """A signed-in staff member's own choice (console settings), kept on their account so
    it holds on every device and after the next sign-in; None lets the browser decide."""
    if not has_request_context() or "user_id" not in session:
        return None
    from web.identity import signed_in_user  # web.identity imports the models: late

    user = signed_in_user()
    return normalise(user.language) if user is not None else None


def html_lang() -> str:
    return current_language().replace("_", "-")


@bp.post("/lang")
def choose_language() -> Response:
    """The header's language switch: remember the choice (cookie, and on the shopper row
    when there is one) and go back where the shopper was, on this site only."""
    chosen = normalise(request.form.get("lang"))
    back = safe_next(request.form.get("next")) or "/"
    response = redirect(back, code=303)
    if chosen is None:
        return response
    response.set_cookie(
        COOKIE,
        chosen,
        max_age=COOKIE_MAX_AGE,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure,
    )
    _remember_on_shopper(chosen)
    return response


def _remember_on_shopper(chosen: str) -> None:
    """E-mails written later (reminders, sign-in links) follow the shopper's choice."""
    from sessions.i18n import do_set_shopper_language
    from web.db import db
    from web.identity import current_actor

    shopper_id = current_actor().shopper_id
    if shopper_id is not None:
        do_set_shopper_language(db(), shopper_id, chosen)


# The page modules' two keywords, as the Makefile's `messages` target gives them to pybabel.
JS_KEYWORDS: dict[str, tuple[int, ...] | None] = {"t": None, "tn": (1, 2)}
# Babel orders a language's plural forms by these CLDR categories (babel.plural): the
# gettext form index of a category is its place among the language's own.
PLURAL_ORDER = ("zero", "one", "two", "few", "many", "other")


@functools.cache
def js_messages() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Every `t("...")` and `tn("one", "many", n)` of the page modules, read once from the
    sources pybabel reads: (msgids, (singular, plural) pairs)."""
    root = Path(__file__).parent / "static" / "js"
    found = extract_from_dir(
        str(root),
        method_map=[("**.js", "javascript")],
        keywords=JS_KEYWORDS,
        comment_tags=(),
    )
    singles: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for _file, _line, message, _c, _ctx in found:
        if isinstance(message, tuple):
            pairs.add((str(message[0]), str(message[1])))
        else:
            singles.add(str(message))
    return tuple(sorted(singles)), tuple(sorted(pairs))


def plural_categories(language: str) -> list[str]:
    """The CLDR categories of `language` in its catalogue's form order: ["one", "many",
    "other"] for French (forms 0, 1, 2), ["other"] for Chinese. The browser's
    Intl.PluralRules names the category of a count; ui.js's tn() takes that form."""
    tags = Locale.parse(language).plural_form.tags
    return [tag for tag in PLURAL_ORDER if tag in tags or tag == "other"]


def plural_forms(singular: str, plural: str, count: int) -> list[str]:
    """The catalogue's `count` forms of one plural message; the English pair when the
    catalogue has none (test_catalogues fails then)."""
    catalog = getattr(get_translations(), "_catalog", {})
    forms = [catalog.get((singular, index)) for index in range(count)]
    if not all(forms):
        return [singular, plural]
    return [str(form) for form in forms]


def js_catalogue() -> dict[str, object]:
    """The page modules' strings in the page's language (English: nothing to send; ui.js
    falls back to the msgids and the English plural rule)."""
    language = current_language()
    if language == DEFAULT_LANGUAGE:
        return {}
    singles, pairs = js_messages()
    categories = plural_categories(language)
    return {
        "messages": {msgid: gettext(msgid) for msgid in singles},
        "plurals": {one: plural_forms(one, many, len(categories)) for one, many in pairs},
        "categories": categories,
    }


def format_local(value: datetime | None, zone: str | None = None, date: str = "medium") -> str:
    """An instant in the reader's zone (`zone`, else UTC) as the page's locale writes it,
    with the zone's name: "2 déc. 2026, 19:30 (Europe/Paris)" (sessions/i18n.py)."""
    if value is None:
        return ""
    return format_moment(value, zone, current_language(), date)


def lang_switch_next() -> str:
    """Where the switch goes back to: this page, without a `?lang=` that would outrank it
    (nor a `next`: that one is the page's own, checked where it is used)."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("lang", "next")]
    return request.path + ("?" + urlencode(kept) if kept else "")


def page_translations() -> Any:
    """Flask-Babel's catalogue for the current locale, looked up once per locale and request.

    Flask-Babel finds it again for every string (context, domain, the locale's name as a
    string, its cache: 6 µs, against 0.25 µs for the lookup in the catalogue), and a show
    page says about 80 strings (docs/performance.md). The locale object is compared by
    identity, so ``force_locale`` (an e-mail in its reader's language) and a refreshed
    locale each get their own catalogue."""
    if not has_app_context():
        return get_translations()
    locale = get_locale()
    held = g.get("page_translations")
    if held is not None and held[0] is locale:
        return held[1]
    translations = get_translations()
    g.page_translations = (locale, translations)
    return translations


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    # Templates' _() and ngettext: Flask-Babel's own callables, with the catalogue found
    # once per request (page_translations) instead of once per string.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
    )
    app.register_blueprint(bp)
    app.jinja_env.filters["local_datetime"] = format_local

    @app.context_processor
    def inject_language() -> dict[str, object]:
        return {
            "html_lang": html_lang,
            "languages": LANGUAGES,
            # The switch reads this one: a page may name its own `languages` (the booking page).
            "site_languages": LANGUAGES,
            "current_language": current_language,
            "js_catalogue": js_catalogue,
            "lang_switch_next": lang_switch_next,
        }
