"""Brand URL settings: one action checks them, from the API, the admin form and the CLI.

Before, ``PATCH /api/brands/<id>`` wrote its fields straight onto the row, so it
stored what the admin form refused (``file://``, ``javascript:``, loopback), and
nothing could ever set the webhook's signing secret.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.brands import do_update_brand_settings
from sessions.errors import InvalidInput
from sessions.models import Brand
from tests.conftest import login
from tests.factories import Factory
from web.config import ConfigError, load_config

# Each is refused as a cart URL template and as a webhook URL.
UNSAFE_URLS = [
    "file:///etc/passwd",
    "javascript:alert(document.cookie)//",
    "ftp://shop.example/hook",
    "http://127.0.0.1:9/hook",
    "https://localhost/hook",
    "https://app.localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/admin",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number: resolves to loopback
    "http://0x7f000001/hook",
    "https://user:pw@shop.example/hook",
    "https:///no-host",
]


@pytest.fixture
def admin_client(app: Flask, factory: Factory) -> tuple[FlaskClient, Brand]:
    brand = factory.brand()
    client = app.test_client()
    login(client, factory.admin(brand).email)
    return client, brand


@pytest.mark.parametrize("field", ["checkout_url_template", "checkout_webhook_url"])
@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_api_refuses_unsafe_brand_urls(
    admin_client: tuple[FlaskClient, Brand], session: Session, field: str, url: str
) -> None:
    client, brand = admin_client
    response = client.patch(f"/api/brands/{brand.id}", json={field: url})
    assert response.status_code == 422, response.json
    assert response.json["details"]["field"] == field and response.json["message"]
    session.refresh(brand)
    session.commit()  # end the read: SQLite's writer lock
    assert getattr(brand, field) is None


def test_admin_form_refuses_the_same_urls(
    admin_client: tuple[FlaskClient, Brand], session: Session
) -> None:
    client, brand = admin_client
    for url in ("http://127.0.0.1:9/hook", "file:///etc/passwd", "http://169.254.169.254/"):
        form = {
            "name": brand.name,
            "primary_color": "#112233",
            "accent_color": "#445566",
            "offline_message": "Back soon",
            "blocked_words": "",
            "checkout_url_template": "",
            "checkout_webhook_url": url,
        }
        response = client.post("/admin/settings", data=form)
        assert response.status_code == 422, url
        assert 'id="e-checkout_webhook_url"' in response.get_data(as_text=True)
    session.refresh(brand)
    session.commit()  # end the read: SQLite's writer lock
    assert brand.checkout_webhook_url is None


def test_a_refused_patch_changes_nothing(
    admin_client: tuple[FlaskClient, Brand], session: Session
) -> None:
    client, brand = admin_client
    response = client.patch(
        f"/api/brands/{brand.id}",
        json={"name": "Renamed", "checkout_webhook_url": "http://127.0.0.1/hook"},
    )
    assert response.status_code == 422
    session.refresh(brand)
    session.commit()  # end the read: SQLite's writer lock
    assert brand.name != "Renamed"


def test_cart_template_placeholders_are_checked_when_saved(
    admin_client: tuple[FlaskClient, Brand], session: Session
) -> None:
    client, brand = admin_client
    for template in ("https://shop.example/cart?u={shopper_email}", "https://shop.example/{"):
        refused = client.patch(f"/api/brands/{brand.id}", json={"checkout_url_template": template})
        assert refused.status_code == 422 and "placeholders" in refused.json["message"]
    # A host name we cannot resolve is kept for the cart URL: only the browser opens it.
    good = "https://shop.example/cart?add={skus}&ref={bag_id}"
    saved = client.patch(f"/api/brands/{brand.id}", json={"checkout_url_template": good})
    assert saved.status_code == 200, saved.json
    assert saved.json["checkout_url_template"] == good


def test_a_webhook_host_that_does_not_resolve_is_refused_when_saved(
    admin_client: tuple[FlaskClient, Brand],
) -> None:
    client, brand = admin_client
    refused = client.patch(
        f"/api/brands/{brand.id}", json={"checkout_webhook_url": "https://shop.invalid/hook"}
    )
    assert refused.status_code == 422 and "could not find the host" in refused.json["message"]


def test_http_is_refused_in_production() -> None:
    from sessions.outbound import UrlPolicy  # here: the module is new, the other tests run without

    production = UrlPolicy.from_mapping({"VITRINE_ENV": "production"})
    development = UrlPolicy.from_mapping({"VITRINE_ENV": "development"})
    assert production.schemes == ("https",) and "http" in development.schemes
    brand = Brand(slug="x", name="X")
    with pytest.raises(InvalidInput, match="https"):
        do_update_brand_settings(
            None,  # type: ignore[arg-type]  # refused before the database is touched
            brand,
            name="X",
            primary_color="#111111",
            accent_color="#222222",
            offline_message="",
            blocked_words="",
            checkout_url_template="http://shop.example/cart",
            checkout_webhook_url=None,
            url_policy=production,
        )


def test_private_hosts_can_never_be_allowed_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from sessions.outbound import UrlPolicy

    monkeypatch.setenv("ALLOW_PRIVATE_WEBHOOK_HOSTS", "1")
    with pytest.raises(ConfigError, match="ALLOW_PRIVATE_WEBHOOK_HOSTS"):
        load_config({"VITRINE_ENV": "production", "SECRET_KEY": "k", "MEDIA_GRANT_SECRET": "m"})
    assert not UrlPolicy.from_mapping(
        {"VITRINE_ENV": "production", "ALLOW_PRIVATE_WEBHOOK_HOSTS": True}
    ).allow_private


# --- the webhook's signing secret ----------------------------------------------------


def test_saving_a_webhook_generates_its_secret_shown_once(
    app: Flask, admin_client: tuple[FlaskClient, Brand], session: Session
) -> None:
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = True
    client, brand = admin_client
    url = f"/api/brands/{brand.id}"
    first = client.patch(url, json={"checkout_webhook_url": "http://127.0.0.1:9/hook"})
    assert first.status_code == 200, first.json
    secret = first.json["new_webhook_secret"]
    assert secret and len(secret) >= 40 and first.json["has_webhook_secret"]
    session.refresh(brand)
    session.commit()  # end the read: SQLite's writer lock
    assert brand.webhook_secret == secret
    again = client.patch(url, json={"name": "Still here"})
    assert again.json["new_webhook_secret"] is None and again.json["has_webhook_secret"]
    assert secret not in client.get(url).get_data(as_text=True)
    assert secret not in client.get("/admin/settings").get_data(as_text=True)


def test_rotating_the_secret_from_the_api(
    admin_client: tuple[FlaskClient, Brand], session: Session, app: Flask
) -> None:
    client, brand = admin_client
    rotated = client.post(f"/api/brands/{brand.id}/webhook-secret")
    assert rotated.status_code == 200, rotated.json
    session.refresh(brand)
    session.commit()  # end the read: SQLite's writer lock
    assert brand.webhook_secret == rotated.json["webhook_secret"]
    second = client.post(f"/api/brands/{brand.id}/webhook-secret").json["webhook_secret"]
    assert second != rotated.json["webhook_secret"]
    assert app.test_client().post(f"/api/brands/{brand.id}/webhook-secret").status_code == 401


def test_admin_page_shows_a_new_secret_once_and_rotates_it(
    app: Flask, admin_client: tuple[FlaskClient, Brand], session: Session
) -> None:
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = True
    client, brand = admin_client
    form = {
        "name": brand.name,
        "primary_color": "#112233",
        "accent_color": "#445566",
        "offline_message": "Back soon",
        "blocked_words": "",
        "checkout_url_template": "",
        "checkout_webhook_url": "http://127.0.0.1:9/hook",
    }
    saved = client.post("/admin/settings", data=form)
    assert saved.status_code == 200 and saved.headers["Cache-Control"] == "no-store"
    session.refresh(brand)
    session.commit()  # end the read: SQLite's writer lock
    assert brand.webhook_secret and brand.webhook_secret in saved.get_data(as_text=True)
    assert client.post("/admin/settings", data=form).status_code == 302  # not shown again
    old = brand.webhook_secret
    rotated = client.post("/admin/settings/webhook-secret")
    session.refresh(brand)
    session.commit()  # end the read: SQLite's writer lock
    assert brand.webhook_secret != old
    assert brand.webhook_secret in rotated.get_data(as_text=True)


def test_cli_rotates_and_prints_the_secret(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory: Factory
) -> None:
    from web.cli import main

    brand = factory.brand()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VITRINE_ENV", "testing")
    monkeypatch.setenv("VITRINE_VAR_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["rotate-webhook-secret", brand.slug])
    assert result.exit_code == 0, result.output
    factory.session.refresh(brand)
    factory.session.commit()  # end the read: SQLite's writer lock
    assert brand.webhook_secret and brand.webhook_secret in result.stdout
    missing = CliRunner().invoke(main, ["rotate-webhook-secret", "no-such-brand"])
    assert missing.exit_code != 0 and "No brand" in missing.output
