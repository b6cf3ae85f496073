"""The sentences of colour truth that the pages' scripts say (web/static/js/colour.js), in the
reader's language: a template global, so every page with a chat of snapshots has them."""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations
from flask_babel import gettext as _

# Translations object → (it, its sentences). A show page said these 22 sentences twice,
# 44 of the page's 120 gettext calls (docs/performance.md): they depend only on the
# catalogue of the reader's language, which Flask-Babel keeps one object per language.
# The object is held beside its sentences so its id cannot be reused by another.
_MADE: dict[int, tuple[Any, dict[str, str]]] = {}
_MAX_MADE = 64  # languages × apps (tests make many apps); past it, start over


def colour_words() -> dict[str, str]:
    """The sentences colour.js says, in the reader's language; {de} and {name} are filled in
    there with the figures of each snapshot (sessions/colour/words.py gives the codes).
    Shared between requests: read it, never change it."""
    translations = get_translations()
    made = _MADE.get(id(translations))
    if made is not None and made[0] is translations:
        return made[1]
    words = _sentences()
    if len(_MADE) >= _MAX_MADE:
        _MADE.clear()
    _MADE[id(translations)] = (translations, words)
    return words


def _sentences() -> dict[str, str]:
    de, name = "{de}", "{name}"
    words = {
        "corrected": _("Colour corrected: ΔE %(de)s average on the card.", de=de),
        "measured": _("Measured on the piece"),
        "catalogue": _("Catalogue colour, %(name)s", name=name),
        "same": _("Within what an eye can tell apart (ΔE2000 %(de)s).", de=de),
        "swatch_note": _("Compared with the catalogue's swatch: this variant is not measured yet."),
        "no_reference": _("The catalogue has no colour for this variant yet."),
        "tap": _("Tap the piece in the picture to measure its colour."),
        "checking": _("Looking for the reference card…"),
        "kept": _("Kept as this variant's catalogue colour."),
        "failed": _("The colour could not be measured."),
    }
    noticeable = {
        "lighter": _("Noticeably lighter than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "darker": _("Noticeably darker than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "redder": _("Noticeably redder than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "greener": _("Noticeably greener than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "yellower": _("Noticeably yellower than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "bluer": _("Noticeably bluer than the catalogue colour (ΔE2000 %(de)s).", de=de),
    }
    clear = {
        "lighter": _("Clearly lighter than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "darker": _("Clearly darker than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "redder": _("Clearly redder than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "greener": _("Clearly greener than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "yellower": _("Clearly yellower than the catalogue colour (ΔE2000 %(de)s).", de=de),
        "bluer": _("Clearly bluer than the catalogue colour (ΔE2000 %(de)s).", de=de),
    }
    words |= {f"noticeable_{k}": v for k, v in noticeable.items()}
    words |= {f"clear_{k}": v for k, v in clear.items()}
    return words
