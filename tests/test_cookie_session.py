"""The signed session cookie is sent again when it changes or once it is an hour old, not on
every response (web/cookie_session.py), and a cookie signed before this change still works."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import Factory
from web import cookie_session


def _sets_session_cookie(app: Flask, response: Any) -> bool:
    name = app.config["SESSION_COOKIE_NAME"]
    return any(h.startswith(f"{name}=") for h in response.headers.getlist("Set-Cookie"))


def _signed_in_admin(client: FlaskClient, factory: Factory) -> None:
    admin = factory.admin(factory.brand())
    factory.session.commit()  # end the read: SQLite's BEGIN IMMEDIATE would block the app
    login(client, admin.email)
    # The first page puts its CSRF token in the session: a change, so it is sent then.
    assert _sets_session_cookie(client.application, client.get("/admin/products"))


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the clock the interface and itsdangerous read (both use time.time)."""
    now = time.time() + seconds
    monkeypatch.setattr(time, "time", lambda: now)


def test_an_unchanged_session_is_not_signed_again_within_the_hour(
    app: Flask, client: FlaskClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signed_in_admin(client, factory)
    first = client.get("/admin/products")
    assert first.status_code == 200
    assert not _sets_session_cookie(app, first)
    _later(monkeypatch, cookie_session.REFRESH_AFTER_SECONDS - 60)
    assert not _sets_session_cookie(app, client.get("/admin/products"))


def test_an_hour_old_cookie_is_signed_again_and_the_person_stays_signed_in(
    app: Flask, client: FlaskClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signed_in_admin(client, factory)
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert before is not None
    _later(monkeypatch, cookie_session.REFRESH_AFTER_SECONDS + 1)
    refreshed = client.get("/admin/products")
    assert refreshed.status_code == 200 and _sets_session_cookie(app, refreshed)
    after = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert after is not None and after.value != before.value
    # Signed now: the next request within the hour sends nothing again.
    assert not _sets_session_cookie(app, client.get("/admin/products"))


def test_a_changed_session_is_sent_at_once(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    _signed_in_admin(client, factory)
    signed_out = client.post("/logout", data={})
    assert _sets_session_cookie(app, signed_out)
    assert client.get("/admin/products").status_code == 302  # to the sign-in page


def test_a_cookie_signed_by_flasks_own_interface_is_still_valid(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    _signed_in_admin(client, factory)
    name = app.config["SESSION_COOKIE_NAME"]
    held = client.get_cookie(name)
    assert held is not None
    mine = app.session_interface.get_signing_serializer(app)
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    assert mine is not None and stock is not None
    client.set_cookie(name, stock.dumps(mine.loads(held.value)))
    assert client.get("/admin/products").status_code == 200
    client.set_cookie(name, held.value[:-2] + "xx")  # a forged signature: signed out
    assert client.get("/admin/products").status_code == 302


def test_a_remembered_cookie_still_ends_with_its_lifetime_or_its_key(
    app: Flask, client: FlaskClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cookie verified once is remembered by the node (web/cookie_session.py), and the
    lifetime and the keys still decide: past 30 days, or under a new key, it is refused."""
    _signed_in_admin(client, factory)
    assert client.get("/admin/products").status_code == 200  # verified, now remembered
    held = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert held is not None
    lifetime = app.permanent_session_lifetime.total_seconds()
    with monkeypatch.context() as later:
        _later(later, lifetime + 1)
        assert client.get("/admin/products").status_code == 302  # to the sign-in page
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], held.value)
    assert client.get("/admin/products").status_code == 200
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-key-entirely")
    monkeypatch.setattr(app, "secret_key", "another-key-entirely")
    assert client.get("/admin/products").status_code == 302


def test_each_request_gets_its_own_copy_of_a_remembered_cookies_data(app: Flask) -> None:
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app)
    assert serializer is not None
    cookie = serializer.dumps({"show_passes": [3, 5]})
    headers = {"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}
    with app.test_request_context("/", headers=headers):
        from flask import request

        first = interface.open_session(app, request)
        assert first is not None and first["show_passes"] == [3, 5]
        first["show_passes"].append(7)  # changed in place by one request
        second = interface.open_session(app, request)
        assert second is not None and second["show_passes"] == [3, 5]
