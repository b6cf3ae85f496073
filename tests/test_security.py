"""Cookies, CSRF, secrets, sign-in throttling, and errors that never leak a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token_from, login
from tests.factories import Factory
from web import create_app
from web.config import ConfigError


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_form_post_without_csrf_token_is_refused(csrf_app: Flask, factory: Factory) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": admin.email, "password": Factory.PASSWORD})
    assert response.status_code == 400
    assert b"Reload the page" in response.data


def test_api_write_needs_csrf_header(csrf_app: Flask, factory: Factory) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": admin.email, "password": Factory.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    body = {"name": "Scarf", "price_minor": 100}
    refused = client.post(f"/api/brands/{brand.id}/products", json=body)
    assert refused.status_code == 400 and refused.json["error"] == "csrf"
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    accepted = client.post(
        f"/api/brands/{brand.id}/products", json=body, headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201


def test_session_cookie_flags(tmp_path: Path, factory: Factory, database_url: str) -> None:
    app = create_app(
        {
            "VITRINE_ENV": "production",
            "SECRET_KEY": "k" * 40,
            "MEDIA_GRANT_SECRET": "m" * 40,
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(tmp_path / "u"),
            "SOCKETIO_ASYNC_MODE": "threading",
            "SESSION_COOKIE_SECURE": True,
            "WTF_CSRF_ENABLED": False,
            "SCHEDULER": False,  # a production app starts its scheduler; this test needs none
        }
    )
    brand = factory.brand()
    admin = factory.admin(brand)
    client = app.test_client()
    response = client.post("/login", data={"email": admin.email, "password": Factory.PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_sign_in_is_throttled(client: FlaskClient, factory: Factory, app: Flask) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        wrong = client.post("/login", data={"email": admin.email, "password": "wrong-password"})
        assert wrong.status_code == 401
        assert b"do not match" in wrong.data
    # Now even the right password waits: the attacker cannot tell.
    blocked = client.post("/login", data={"email": admin.email, "password": Factory.PASSWORD})
    assert blocked.status_code == 429
    assert b"Too many failed sign-ins" in blocked.data


def test_open_redirect_after_login_is_ignored(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    response = client.post(
        "/login",
        data={"email": admin.email, "password": Factory.PASSWORD, "next": "//evil.example/x"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_api_errors_are_json_with_right_status(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    login(client, factory.admin(brand).email)
    url = f"/api/brands/{brand.id}/products"
    not_json = client.post(url, data="{", content_type="application/json")
    assert not_json.status_code == 400 and not_json.json["error"] == "bad_json"
    invalid = client.post(url, json={"name": "", "price_minor": -1})
    assert invalid.status_code == 422 and "price_minor" in invalid.json["details"]["fields"]
    assert client.get("/api/products/999999").status_code == 404
    assert client.get("/api/products/99999999999999999999").status_code == 404
    assert client.get("/api/nope").json["error"] == "not_found"


def test_unknown_page_is_readable_html(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert b"<html" in response.data and b"Not found" in response.data


def test_nothing_stored_is_lost_on_bad_update(client: FlaskClient, factory: Factory) -> None:
    brand = factory.brand()
    product = factory.product(brand, stock=3)
    login(client, factory.admin(brand).email)
    bad = client.patch(f"/api/products/{product.id}", json={"price_minor": "lots"})
    assert bad.status_code == 422
    assert client.get(f"/api/products/{product.id}").json["price_minor"] == product.price_minor
