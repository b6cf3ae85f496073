"""Every response carries the security headers; only embed pages may be framed, and only
by the origins their brand lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import login, running_app
from tests.factories import Factory

SHOP = "https://shop.example.com"


def _csp(response: TestResponse) -> dict[str, str]:
    """The policy as {directive: its sources}."""
    policy = response.headers["Content-Security-Policy"]
    directives = [part.strip().partition(" ") for part in policy.split(";") if part.strip()]
    return {name: sources for name, _, sources in directives}


def _assert_not_framable(response: TestResponse) -> None:
    assert _csp(response)["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_api_and_errors_refuse_framing(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    for path in ("/", "/login", f"/b/{brand.slug}", "/api/brands", "/no-such-page"):
        _assert_not_framable(client.get(path))
    login(client, admin.email)
    for path in ("/admin/settings", "/admin/people", f"/b/{brand.slug}/bag", "/console/"):
        response = client.get(path)
        assert response.status_code in (200, 308), path
        _assert_not_framable(response)


def test_scripts_only_from_this_site_media_from_the_relay(client: FlaskClient, app: Flask) -> None:
    app.config["RELAY_URL"] = "https://live.example.com/media"
    csp = _csp(client.get("/"))
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["object-src"] == "'none'"
    assert csp["style-src"] == "'self'"  # no inline style on a page without brand colours
    for directive in ("connect-src", "media-src", "img-src"):
        assert "https://live.example.com" in csp[directive].split()
    assert "blob:" in csp["media-src"].split()
    assert "ws://localhost" in csp["connect-src"].split()


def test_embed_page_is_framed_only_by_the_brands_origins(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    show = factory.show(brand)
    embed = f"/embed/shows/{show.id}"
    _assert_not_framable(client.get(embed))  # no origins listed yet: nobody may frame it

    login(client, admin.email)
    saved = client.put(
        f"/api/brands/{brand.id}/embed-origins",
        json={"origins": [SHOP, "http://localhost:8080/"]},
    )
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["origins"] == [SHOP, "http://localhost:8080"]

    response = client.get(embed)
    assert response.status_code == 200
    assert _csp(response)["frame-ancestors"] == f"{SHOP} http://localhost:8080"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Its brand's other pages still refuse framing.
    _assert_not_framable(client.get(f"/b/{brand.slug}"))


@pytest.mark.parametrize(
    "origin",
    [
        "javascript:alert(1)",
        "https://shop.example.com; script-src *",
        "https://shop.example.com/path",
        "https://user@shop.example.com",
        "https://*.example.com",
        "'self'",
        "ftp://shop.example.com",
        "https://shop.example.com?x=1",
        "https://",
    ],
)
def test_embed_origins_refuse_anything_but_an_origin(
    client: FlaskClient, factory: Factory, origin: str
) -> None:
    brand = factory.brand()
    login(client, factory.admin(brand).email)
    assert (
        client.put(f"/api/brands/{brand.id}/embed-origins", json={"origins": [SHOP]}).status_code
        == 200
    )

    refused = client.put(f"/api/brands/{brand.id}/embed-origins", json={"origins": [origin]})
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "invalid"
    form = client.post("/admin/settings/embed", data={"embed_origins": f"{SHOP}\n{origin}"})
    assert form.status_code == 422
    assert "is not an origin" in form.get_data(as_text=True)
    # What was saved before is untouched.
    show = factory.show(brand)
    assert _csp(client.get(f"/embed/shows/{show.id}"))["frame-ancestors"] == SHOP


def test_admin_settings_form_saves_embed_origins(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    login(client, factory.admin(brand).email)
    response = client.post("/admin/settings/embed", data={"embed_origins": f" {SHOP}/ \n"})
    assert response.status_code == 302
    assert SHOP in client.get("/admin/settings").get_data(as_text=True)


def test_another_brands_admin_cannot_set_embed_origins(
    client: FlaskClient, factory: Factory
) -> None:
    brand, other = factory.brand(), factory.brand()
    login(client, factory.admin(other).email)
    response = client.put(f"/api/brands/{brand.id}/embed-origins", json={"origins": [SHOP]})
    assert response.status_code == 403


class _Scripts(HTMLParser):
    """Inline code a page carries: script bodies that run, on* and style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.inline += [f"{tag} {k}" for k in names if k.startswith("on") or k == "style"]
        runs = names.get("type") in (None, "module", "text/javascript")
        self._in_script = tag == "script" and runs and "src" not in names

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:60])


def test_rendered_templates_carry_no_inline_script() -> None:
    """The CSP refuses inline script and style attributes, so no template may rely on one."""
    templates = Path(__file__).resolve().parents[2] / "web" / "templates"
    for path in templates.rglob("*.html"):
        parser = _Scripts()
        # Jinja expressions inside attributes are not HTML: blank them out first.
        parser.feed(re.sub(r"{[{%#].*?[}%#]}", "", path.read_text(), flags=re.S))
        assert parser.inline == [], f"{path.name}: {parser.inline}"


def test_the_brand_colours_style_carries_the_responses_nonce(
    client: FlaskClient, factory: Factory
) -> None:
    brand = factory.brand()
    first, second = client.get(f"/b/{brand.slug}"), client.get(f"/b/{brand.slug}")
    nonces = []
    for response in (first, second):
        match = re.search(r'<style nonce="([^"]+)">:root', response.get_data(as_text=True))
        assert match, "the brand page has no nonce on its colours"
        assert _csp(response)["style-src"] == f"'self' 'nonce-{match.group(1)}'"
        nonces.append(match.group(1))
    assert nonces[0] != nonces[1]  # one per response, never reused


@pytest.fixture
def production_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    config = {
        "VITRINE_ENV": "production",
        "SECRET_KEY": "test-secret-key",
        "MEDIA_GRANT_SECRET": "test-media-secret",
        "DATABASE_URL": database_url,
        "SOCKETIO_ASYNC_MODE": "threading",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "VAR_DIR": str(tmp_path / "var"),
        "SCHEDULER": False,  # a production app starts its scheduler; this test needs none
    }
    with running_app(config) as app:
        yield app


def test_hsts_in_production_only(client: FlaskClient, production_app: Flask) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    response = production_app.test_client().get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
