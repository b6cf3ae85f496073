"""The catalogues are complete: every string the code marks has a French and a Simplified
Chinese translation, not fuzzy, with the same placeholders (`%(name)s`) as its msgid.

The msgids are extracted afresh from the sources (babel.cfg, as `make messages` does), so
a string marked but not yet in the .po files fails here too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("fr", "zh_Hans")
# As the Makefile's `messages` target: Babel's defaults plus ours.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "N_": None,
    "t": None,
    "tn": (1, 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# t("...") and ui.js's tn("one", "many", n); staff modules' tn("key", n) (strings.js) is
# keyed by a table, not extracted.
STRING = r'"(?:[^"\\]|\\.)*"'
CALL = re.compile(r"\b(?:t|tn(?=\(" + STRING + r",\s*\"))\((" + STRING + ")")


def extracted() -> set[str | tuple[str, ...]]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=())
    return {message for _f, _l, message, _c, _ctx in found if message}


@pytest.fixture(scope="module")
def msgids() -> set[str | tuple[str, ...]]:
    return extracted()


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_msgid_is_translated(msgids: set, lang: str) -> None:
    path = ROOT / "web" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as po:
        catalogue = read_po(po, locale=lang)
    problems = []
    for msgid in sorted(msgids, key=str):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalogue.get(key)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(s.strip() for s in strings):
            problems.append(f"empty: {msgid!r}")
            continue
        plural = isinstance(msgid, tuple)
        wanted = placeholders(msgid[1] if plural else key) | placeholders(key)
        for s in strings:
            # A plural form may leave the count out ("un article"), never add one.
            if not (placeholders(s) <= wanted if plural else placeholders(s) == wanted):
                problems.append(f"placeholders differ: {msgid!r} → {s!r}")
    assert not problems, f"{lang}: " + "; ".join(problems[:40]) + f" ({len(problems)} in all)"


def test_extraction_sees_the_three_kinds_of_source(msgids: set) -> None:
    """Templates, Python and the page modules all feed the catalogue."""
    assert "Add to bag" in msgids  # templates and show.js
    assert "Your message was not sent." in msgids  # show.js only
    assert "Sold out." in msgids  # sessions/bags.py, N_()


def test_every_t_call_of_the_page_modules_is_extracted(msgids: set) -> None:
    """Babel's JavaScript extractor skips a t("...") inside a template literal's ${};
    the modules keep their t() and tn() calls outside them, and this holds them to it."""
    singulars = {m[0] if isinstance(m, tuple) else m for m in msgids}
    called = set()
    for path in (ROOT / "web" / "static" / "js").rglob("*.js"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("//"):
                continue  # a comment's example, not a call
            for match in CALL.finditer(line):
                called.add(match.group(1)[1:-1].replace('\\"', '"'))
    missed = sorted(m for m in called if m not in singulars)
    assert not missed, f"t() calls pybabel does not see: {missed}"


ERRORS = {
    "DomainError",
    "InvalidInput",
    "NotAuthenticated",
    "Forbidden",
    "NotFound",
    "Conflict",
    "SoldOut",
    "OverLimit",
    "PlaceholderMissing",
    "CheckoutUnavailable",
    "CheckoutNotSetUp",
    "BadSignature",
    "WebhookNotConfigured",
    "BadJSON",
    "BadCalendarQuery",
    "NulCharacter",
    "TooManyRequests",
    "ServiceUnavailable",
}


def _error_calls() -> list[tuple[str, ast.Call]]:
    found = []
    for folder in ("sessions", "web"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in ERRORS:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def test_domain_errors_are_msgids_with_parameters_not_formatted_text() -> None:
    """A message built with an f-string, % or .format() is English for every reader and in
    no catalogue: the domain gives a msgid and ``params``, the web layer translates."""
    built = []
    for where, call in _error_calls():
        message = call.args[0]
        if (
            isinstance(message, ast.JoinedStr)
            or (isinstance(message, ast.BinOp) and isinstance(message.op, ast.Mod | ast.Add))
            or (
                isinstance(message, ast.Call)
                and isinstance(message.func, ast.Attribute)
                and message.func.attr == "format"
            )
        ):
            built.append(where)
    assert not built, f"domain errors with formatted messages: {built}"


def test_a_domain_error_gives_the_parameters_its_msgid_names() -> None:
    """`InvalidInput(N_("Keep it under %(n)s."), params={"n": 80})`: the same names on
    both sides, or the message fails (or reads "%(n)s") in every language."""
    wrong = []
    for where, call in _error_calls():
        message = call.args[0]
        if isinstance(message, ast.Call) and getattr(message.func, "id", None) == "N_":
            message = message.args[0]
        if not isinstance(message, ast.Constant) or not isinstance(message.value, str):
            continue
        given = next((k.value for k in call.keywords if k.arg == "params"), None)
        if given is None:
            names: set[str] = set()
        elif isinstance(given, ast.Dict) and all(isinstance(k, ast.Constant) for k in given.keys):
            names = {k.value for k in given.keys if isinstance(k, ast.Constant)}
        else:
            continue  # built elsewhere: checked where it is built
        if placeholders(message.value) != names:
            wrong.append(f"{where}: {message.value!r} given {sorted(names)}")
    assert not wrong, "; ".join(wrong)
