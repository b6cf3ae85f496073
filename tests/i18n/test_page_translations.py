"""Templates find the reader's catalogue once per request (web/i18n.page_translations), and
say exactly what Flask-Babel's own gettext says, a locale forced in between included."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale, gettext, ngettext

SINGULAR, PLURAL = "%(count)s reminder asked", "%(count)s reminders asked"
TEMPLATE = "{{ _('Sign in') }}|{{ ngettext(singular, plural, 3, count=3) }}"


def _expected() -> str:
    return f"{gettext('Sign in')}|{ngettext(SINGULAR, PLURAL, 3, count=3)}"


def test_templates_say_what_flask_babel_says_in_each_language(app: Flask) -> None:
    said = {}
    for language in ("en", "fr", "zh-Hans"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            said[language] = render_template_string(TEMPLATE, singular=SINGULAR, plural=PLURAL)
            assert said[language] == _expected()
    assert said["fr"] != said["en"] and said["zh-Hans"] != said["en"]  # really translated


def test_a_locale_forced_within_the_request_is_followed_and_then_left(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        page = render_template_string(TEMPLATE, singular=SINGULAR, plural=PLURAL)
        with force_locale("zh_Hans"):
            mail = render_template_string(TEMPLATE, singular=SINGULAR, plural=PLURAL)
            assert mail == _expected()
        assert mail != page
        assert (
            render_template_string(TEMPLATE, singular=SINGULAR, plural=PLURAL)
            == page
            == _expected()
        )


def test_colour_sentences_are_kept_per_language(app: Flask) -> None:
    from web.colour_words import _sentences, colour_words

    said = {}
    for language in ("fr", "en", "fr"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            said[language] = colour_words()
            assert said[language] == _sentences()  # what saying them afresh gives
    assert said["fr"]["measured"] != said["en"]["measured"]
