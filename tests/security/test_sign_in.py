"""Sign-in throttling slows a guesser down without locking the account's owner out.

Failures count per e-mail *and* address (and, more loosely, per address); the
address is the forwarded one only when TRUSTED_PROXY_COUNT says a proxy sets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from sessions.models import LoginAttempt, User
from tests.conftest import app_config, running_app
from tests.factories import Factory

STRANGER = "203.0.113.9"
OWNER = "198.51.100.7"
PROXY = "127.0.0.1"


def _attempt(client: FlaskClient, email: str, password: str, address: str, **headers: str) -> int:
    response = client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )
    return response.status_code


def _fail_until_throttled(client: FlaskClient, email: str, address: str, **headers: str) -> int:
    """Wrong passwords from one address until it is told to wait; how many it took."""
    for n in range(1, 30):
        if _attempt(client, email, "wrong-password", address, **headers) == 429:
            return n
    raise AssertionError("the guesser was never slowed down")


def _user(factory: Factory) -> User:
    return factory.admin(factory.brand())


@pytest.fixture
def proxied_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app as deployed behind the shipped nginx: one trusted proxy hop."""
    config = app_config(database_url, tmp_path, TRUSTED_PROXY_COUNT=1)
    with running_app(config) as app:
        yield app


def test_a_strangers_failures_do_not_lock_the_owner_out(
    client: FlaskClient, factory: Factory
) -> None:
    user = _user(factory)
    tries = _fail_until_throttled(client, user.email, STRANGER)
    assert tries == 6  # five free failures, then a wait
    waiting = client.post(
        "/login",
        data={"email": user.email, "password": "wrong-password"},
        environ_base={"REMOTE_ADDR": STRANGER},
    )
    assert waiting.status_code == 429
    wait = int(waiting.headers["Retry-After"])
    assert 0 < wait <= 900
    assert "seconds" in waiting.get_data(as_text=True)  # the page says how long

    # The owner, from their own address, signs in at once.
    assert _attempt(client, user.email, Factory.PASSWORD, OWNER) == 302


def test_one_address_spraying_many_accounts_is_slowed(
    client: FlaskClient, factory: Factory, app: Flask
) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
    brand = factory.brand()
    emails = [factory.admin(brand).email for _ in range(4)]
    statuses = [_attempt(client, e, "wrong-password", STRANGER) for e in emails * 3]
    assert statuses[:8] == [401] * 8  # no single pair reached its five
    assert statuses[8] == 429
    assert _attempt(client, emails[0], Factory.PASSWORD, OWNER) == 302


def test_head_login_counts_nothing_and_signs_nobody_in(
    client: FlaskClient, factory: Factory, session: Session
) -> None:
    email = _user(factory).email
    creds = {"email": email, "password": Factory.PASSWORD}
    assert client.head("/login", data=creds).status_code == 200
    assert client.head("/login", query_string=creds).status_code == 200
    assert client.get("/whoami").get_json()["kind"] == "anonymous"
    for _ in range(10):
        client.head("/login", data={"email": email, "password": "wrong-password"})
    attempts = session.exec(select(func.count()).select_from(LoginAttempt)).one()
    assert attempts == 0
    session.rollback()  # end the read: SQLite's writer must not wait on it
    assert _attempt(client, email, Factory.PASSWORD, PROXY) == 302  # nothing throttled


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(
    proxied_app: Flask, database_url: str
) -> None:
    with Session(proxied_app.extensions["vitrine.engine"], expire_on_commit=False) as session:
        user = _user(Factory(session))
    client = proxied_app.test_client()
    # Every request comes from nginx (127.0.0.1); nginx appends the client's address.
    stranger = {"X-Forwarded-For": STRANGER}
    assert _fail_until_throttled(client, user.email, PROXY, **stranger) == 6
    assert _attempt(client, user.email, "wrong-password", PROXY, **stranger) == 429
    # The owner behind the same proxy is another address: not slowed at all.
    owner = {"X-Forwarded-For": OWNER}
    assert _attempt(client, user.email, Factory.PASSWORD, PROXY, **owner) == 302


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(
    client: FlaskClient, factory: Factory
) -> None:
    user = _user(factory)
    statuses = [
        _attempt(
            client, user.email, "wrong-password", STRANGER, **{"X-Forwarded-For": f"10.0.0.{n}"}
        )
        for n in range(1, 8)
    ]
    # A new forged address per try does not start a new count: the real address is counted.
    assert statuses == [401] * 5 + [429] * 2
    assert _attempt(client, user.email, Factory.PASSWORD, OWNER) == 302
