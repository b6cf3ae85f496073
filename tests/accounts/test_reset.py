"""Forgot password: the same answer whether or not the e-mail has an account (no
enumeration), one e-mail only to a real account (real SMTP), a single-use expiring link,
every other session ended when the password is set; asking is rate-limited."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.models import PasswordReset
from tests.accounts.conftest import SmtpServer, link_path
from tests.conftest import login
from tests.factories import Factory

NEW = "a new sentence to remember"


def _kind(client: FlaskClient) -> str:
    return str(client.get("/whoami").get_json()["kind"])


def _forgot(client: FlaskClient, email: str) -> tuple[int, str]:
    response = client.post("/password/forgot", data={"email": email})
    page = response.get_data(as_text=True)
    main = page[page.index('<main id="main">') : page.index("</main>")]  # no CSRF token, nonce
    return response.status_code, main.replace(email, "EMAIL")


def test_reset_by_e_mail_ends_other_sessions(
    app: Flask, factory: Factory, smtp: SmtpServer, session: Session
) -> None:
    app.config.update(smtp.config)
    admin = factory.admin(factory.brand())
    phone = app.test_client()
    login(phone, admin.email)
    assert b"Forgot your password?" in app.test_client().get("/login").data

    stranger = app.test_client()
    assert stranger.get("/password/forgot").status_code == 200
    known = _forgot(stranger, admin.email)
    unknown = _forgot(app.test_client(), "nobody@example.com")
    assert known == unknown and known[0] == 200  # the same page either way
    path = link_path(smtp.inbox.wait_for(1)[0])
    assert smtp.inbox.messages[0]["To"].addresses[0].addr_spec == admin.email
    assert len(session.exec(select(PasswordReset)).all()) == 1  # none for the stranger
    session.commit()

    browser = app.test_client()
    assert browser.get(path).status_code == 200
    assert _kind(phone) == "brand_admin"  # the GET changed nothing
    assert browser.post(path, data={"password": "short"}).status_code == 422
    done = browser.post(path, data={"password": NEW})
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")
    assert _kind(phone) == "anonymous"  # every session ended
    old = app.test_client().post(
        "/login", data={"email": admin.email, "password": Factory.PASSWORD}
    )
    assert old.status_code == 401
    login(browser, admin.email, NEW)
    assert browser.get(path).status_code == 410  # once
    assert app.test_client().post(path, data={"password": NEW + "!"}).status_code == 410


def test_an_expired_or_forged_reset_link_says_so(
    app: Flask, factory: Factory, smtp: SmtpServer, session: Session
) -> None:
    app.config.update(smtp.config)
    admin = factory.admin(factory.brand())
    assert _forgot(app.test_client(), admin.email)[0] == 200
    path = link_path(smtp.inbox.wait_for(1)[0])
    reset = session.exec(select(PasswordReset)).one()
    reset.expires_at = reset.created_at - timedelta(seconds=1)
    session.add(reset)
    session.commit()
    late = app.test_client().post(path, data={"password": NEW})
    assert late.status_code == 410 and b"expired" in late.data
    assert app.test_client().get("/password/reset/" + "a" * 64).status_code == 404
    assert (
        app.test_client().post("/password/forgot", data={"email": "not an e-mail"}).status_code
        == 422
    )


def test_asking_is_rate_limited_without_telling_who_has_an_account(
    app: Flask, factory: Factory, smtp: SmtpServer, session: Session
) -> None:
    app.config.update(smtp.config)
    admin = factory.admin(factory.brand())
    client = app.test_client()
    answers = [_forgot(client, admin.email)[0] for _ in range(5)]
    assert answers == [200] * 5  # past 3 per address, quietly nothing more is sent
    assert len(session.exec(select(PasswordReset)).all()) == 3
    session.commit()
    answers = [_forgot(client, f"x{i}@example.com")[0] for i in range(6)]
    assert answers[:5] == [200] * 5 and answers[5] == 429  # 10 per client address
