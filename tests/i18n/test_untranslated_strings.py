"""Every user-visible string of every template is marked for translation.

Rules (what counts as "user-visible" and "marked"):

* The template is read with Jinja's own lexer. Its literal text (`data` tokens) is kept;
  every `{{ ... }}` becomes a neutral marker (whatever it prints is the expression's
  business, checked below); `{% ... %}` tags and `{# ... #}` comments are dropped.
* That text is parsed as HTML. A **text node** (outside <script>, <style> and HTML
  comments) that still contains a letter once the markers are removed is unmarked text.
* So is a letter in the attributes people read or hear: `title`, `alt`, `placeholder`,
  `aria-label`, and `value` of an <input> of type submit, button or reset (the label it
  shows; a <button>'s value is sent with the form, never shown).
* Jinja's AST: a string constant that an `{{ ... }}` prints itself (`{{ "Sold out" }}`,
  `{{ v.size or "One size" }}`, either branch of `a if c else b`) stands in the text in
  place of the marker, so it is unmarked text where it lands in a text node or a read
  attribute (not in `data-role="{{ 'host' if h else 'viewer' }}"`); a string inside
  `_()`, `gettext()` or `ngettext()` is marked, and constants handed to other calls or
  filters (`url_for('shop.bag')`, `|default('shopper')`) are not printed.
* Blocks that fill an attribute of the layout (`{% block body_class %}`) are not text.
* Names that are never translated (the product's own name) are listed in NEVER_TRANSLATED.

Templates under NOT_YET_MARKED are skipped until the staff side is marked (then the tuple
is emptied and this test covers them too).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
NOT_YET_MARKED: tuple[str, ...] = ()
# Rewritten and marked by the booking work; skipped here until it lands on this branch.
REWRITE_PENDING: tuple[str, ...] = ()
NEVER_TRANSLATED = {"Vitrine"}
# Blocks whose text fills an attribute in the layout (base.html: <body class="...">).
NOT_TEXT_BLOCKS = {"body_class"}
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}
BUTTON_INPUTS = {"submit", "button", "reset"}
MARKER = "\ue000"
LETTER = re.compile(r"[^\W\d_]")


def visible(text: str) -> bool:
    rest = text.replace(MARKER, " ")
    for word in NEVER_TRANSLATED:
        rest = rest.replace(word, " ")
    return bool(LETTER.search(rest))


def literal_html(env: Environment, source: str) -> str:
    """The template's own text: each `{{ }}` as a marker (or as the string constants it
    prints as they are, so the HTML parser sees them where they land), tags, comments and
    the blocks that fill an attribute (NOT_TEXT_BLOCKS) gone."""
    out: list[str] = []
    inside = None
    expression: list[str] = []
    block_words: list[str] = []
    skipping = False
    for _line, kind, value in env.lex(source):
        if kind in ("variable_begin", "block_begin", "comment_begin"):
            inside, expression, block_words = kind, [], []
        elif kind == "variable_end":
            inside = None
            if not skipping:
                printed = printed_constants(env.parse("{{ " + " ".join(expression) + " }}"))
                out.append(" ".join(printed) if printed else MARKER)
        elif kind == "block_end":
            inside = None
            if block_words[:1] == ["block"] and set(block_words[1:2]) & NOT_TEXT_BLOCKS:
                skipping = True
            elif block_words[:1] == ["endblock"]:
                skipping = False
        elif kind == "comment_end":
            inside = None
        elif inside == "variable_begin":
            expression.append(repr(value) if kind == "string" else str(value))
        elif inside == "block_begin" and kind == "name":
            block_words.append(value)
        elif kind == "data" and inside is None and not skipping:
            out.append(value)
    return "".join(out)


class Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            read = name in READ_ATTRIBUTES or (
                name == "value"
                # The label of an input button; a <button>'s value is sent, never shown.
                and tag == "input"
                and values.get("type") in BUTTON_INPUTS
            )
            if read and visible(value):
                self.found.append(f'<{tag} {name}="{value}">')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and visible(data):
            self.found.append(data.strip().replace(MARKER, "{{…}}"))


def printed_constants(expr: nodes.Node) -> list[str]:
    """String constants an output expression prints as they are (not through gettext)."""
    if isinstance(expr, nodes.Template):
        return [
            c
            for out in expr.find_all(nodes.Output)
            for n in out.nodes
            for c in printed_constants(n)
        ]
    if isinstance(expr, nodes.Const):
        return [expr.value] if isinstance(expr.value, str) else []
    if isinstance(expr, nodes.CondExpr):
        return printed_constants(expr.expr1) + (
            printed_constants(expr.expr2) if expr.expr2 is not None else []
        )
    if isinstance(expr, (nodes.Or, nodes.And)):
        return printed_constants(expr.left) + printed_constants(expr.right)
    if isinstance(expr, nodes.Concat):
        return [c for n in expr.nodes for c in printed_constants(n)]
    return []  # a call, a filter, a variable: not a literal the page prints as is


def templates() -> list[str]:
    names = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
    return [n for n in names if not n.startswith(NOT_YET_MARKED + REWRITE_PENDING)]


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n"])


@pytest.mark.parametrize("name", templates())
def test_every_visible_string_is_marked(env: Environment, name: str) -> None:
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    finder = Finder()
    finder.feed(literal_html(env, source))
    finder.close()
    unmarked = finder.found
    assert not unmarked, f"{name}: not marked for translation: {unmarked}"


def test_the_rules_catch_what_they_say(env: Environment) -> None:
    """The checker itself: each rule finds its case, and marked text passes."""
    cases = {
        "<p>Hello</p>": True,
        '<img alt="A bag">': True,
        '<input type="submit" value="Go">': True,
        '<button aria-label="Close">×</button>': True,
        "<p>{{ x or 'One size' }}</p>": True,
        "<p>{{ _('Hello') }}</p>": False,
        "<p>{{ x or _('One size') }}</p>": False,
        "<img alt=\"{{ _('A bag') }}\">": False,
        '<input type="hidden" name="x" value="abc">': False,
        '<button name="decision" value="accept">{{ _("Yes") }}</button>': False,
        "<script>const a = 'text';</script>": False,
        "{# a comment #}<p>{{ n }} · {{ m }}</p>": False,
        '<a class="brand-mark">Vitrine</a>': False,
        "<p data-role=\"{{ 'host' if h else 'viewer' }}\"></p>": False,
        "<p>{{ 'host' if h else 'viewer' }}</p>": True,
        "{% block body_class %}show-page{% endblock %}": False,
    }
    for source, flagged in cases.items():
        finder = Finder()
        finder.feed(literal_html(env, source))
        assert bool(finder.found) is flagged, source
