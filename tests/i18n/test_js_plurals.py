"""Count sentences of the page modules follow the page language's plural rule: the
`#vitrine-i18n` block carries every form of each `tn()` message and the language's CLDR
categories in the catalogue's form order (web/i18n.py); ui.js's tn() picks the form with
the browser's Intl.PluralRules. Here the block; the browser half in test_journeys_browser
(French: 0 and 1 singular, 2 plural)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel import Locale
from babel.support import Translations
from flask.testing import FlaskClient

from tests.factories import Factory
from web.i18n import js_messages, plural_categories

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"


def block_of(client: FlaskClient, url: str, **headers: str) -> dict:
    html = client.get(url, headers=headers).get_data(as_text=True)
    return json.loads(html.split('id="vitrine-i18n">', 1)[1].split("</script>", 1)[0])


def test_french_block_has_every_form_in_the_catalogues_order(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.brand()
    block = block_of(client, f"/b/{brand.slug}?lang=fr")
    assert block["categories"] == ["one", "many", "other"]
    assert block["plurals"]["%(n)s piece"] == ["%(n)s pièce", "%(n)s pièces", "%(n)s pièces"]
    assert block["plurals"]["%(num)s item in your bag"][0] == "%(num)s article dans votre panier"
    # Every tn() of the modules is there with its three forms; the single strings apart.
    _singles, pairs = js_messages()
    assert {one for one, _many in pairs} == set(block["plurals"])
    assert all(len(forms) == 3 for forms in block["plurals"].values())
    assert "%(n)s piece" not in block["messages"]


def test_chinese_has_one_form_and_english_sends_nothing(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.brand()
    block = block_of(client, f"/b/{brand.slug}", **{"Accept-Language": "zh-CN"})
    assert block["categories"] == ["other"]
    assert block["plurals"]["%(n)s shopper waiting"] == ["%(n)s 位顾客在等候"]
    assert block_of(client, f"/b/{brand.slug}?lang=en") == {}


@pytest.mark.parametrize("language", ["en", "fr", "zh_Hans"])
def test_the_categories_order_is_the_catalogues_plural_forms(language: str) -> None:
    """What the browser will do (CLDR category → its index in `categories`) is what
    gettext's Plural-Forms of the compiled catalogue does, for every count tried."""
    categories = plural_categories(language)
    rule = Locale.parse(language).plural_form
    forms = Translations.load(str(TRANSLATIONS), [language])
    counts = [*range(0, 250), 1000, 10_000, 1_000_000, 2_000_000, 1_000_001]
    if language == "en":
        assert categories == ["one", "other"]
        assert [categories.index(rule(n)) for n in counts] == [int(n != 1) for n in counts]
        return
    assert [categories.index(rule(n)) for n in counts] == [forms.plural(n) for n in counts]
