"""A returning shopper recognised on another device by an e-mailed sign-in link: the link
is sent after the commit (real SMTP), works once and for the brand's minutes, its GET
changes nothing, its POST makes that browser the shopper (thread and bag there); an
e-mail nobody verified decides nothing; asking is rate-limited; staff are refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.errors import Conflict, Forbidden, TooManyRequests
from sessions.mail import Mailer, SmtpSettings
from sessions.models import Shopper, SignInLink, ThreadMessage
from sessions.service import signin
from tests.booking.conftest import SmtpServer, Team
from tests.conftest import login
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor

LINK = re.compile(r"http://[^\s]+/signin/[\w.-]+")


def _link_of(message: object) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    found = LINK.search(body)
    assert found, body
    return found.group(0)


def _path(url: str) -> str:
    return url[url.index("/signin/") :]


def test_the_link_moves_the_thread_to_another_browser(
    app: Flask, client: FlaskClient, team: Team, smtp: SmtpServer, session: Session
) -> None:
    app.config.update(smtp.config)
    asked = client.post(f"/api/brands/{team.brand.id}/thread", json={"body": "Is it silk?"})
    thread_id = asked.get_json()["thread"]["id"]

    sent = client.post(
        f"/api/brands/{team.brand.id}/signin-link", json={"email": "Camille@Example.com"}
    )
    assert sent.status_code == 202, sent.get_json()
    assert sent.get_json() == {"sent_to": "camille@example.com", "minutes": 30}
    mail = smtp.inbox.wait_for(1)[0]  # sent after the commit, by the outbox
    assert mail["To"] == "camille@example.com"
    assert team.brand.name in mail["Subject"]
    path = _path(_link_of(mail))

    other = app.test_client()  # the phone
    other.get("/")
    assert other.get(f"/api/brands/{team.brand.id}/thread").get_json()["thread"] is None
    page = other.get(path)
    assert page.status_code == 200 and b"Continue here" in page.data
    link = session.exec(select(SignInLink)).one()
    assert link.used_at is None  # the GET spent nothing
    session.commit()  # end the read: on SQLite it would hold the write lock

    used = other.post(path)
    assert used.status_code == 303 and f"/b/{team.brand.slug}" in used.headers["Location"]
    mine = other.get(f"/api/brands/{team.brand.id}/thread").get_json()
    assert mine["thread"]["id"] == thread_id
    bodies = [m["body"] for m in mine["messages"]]
    assert "Is it silk?" in bodies and "Signed in on another device (e-mail link)" in bodies

    again = app.test_client().post(path)  # twice: a readable page, nobody signed in
    assert again.status_code == 410 and b"already been used" in again.data
    assert app.test_client().get(path).status_code == 410
    assert app.test_client().get("/signin/not-a-token").status_code == 404


def test_an_expired_link_says_so(
    app: Flask, team: Team, factory: Factory, session: Session
) -> None:
    shopper = factory.shopper()
    link = SignInLink(
        brand_id=team.brand.id or 0,
        shopper_id=shopper.id or 0,
        email="late@example.com",
        expires_at=utcnow() - timedelta(minutes=1),
    )
    session.add(link)
    session.commit()
    path = signin.link_path(app.config["SECRET_KEY"], link)
    page = app.test_client().get(path)
    assert page.status_code == 410 and b"has expired" in page.data
    used = app.test_client().post(path)
    assert used.status_code == 410 and b"has expired" in used.data
    with pytest.raises(Conflict, match="expired"):
        signin.do_use_link(session, shopper_actor(shopper), link)


def test_the_brand_sets_the_minutes_and_only_a_verified_email_decides(
    team: Team, factory: Factory, session: Session
) -> None:
    team.brand.signin_link_minutes = 10
    session.add(team.brand)
    session.commit()
    first, typist = factory.shopper(), factory.shopper(email="camille@example.com")
    # Someone typed the address before, never confirmed: it decides nothing.
    asked = signin.do_request_link(
        session, shopper_actor(first), team.brand, "camille@example.com", client="a"
    )
    assert asked.minutes == 10 and asked.link.shopper_id == first.id
    assert asked.link.expires_at - asked.link.created_at == timedelta(minutes=10)
    signin.do_use_link(session, shopper_actor(factory.shopper()), asked.link)
    session.refresh(first)
    assert first.email == "camille@example.com" and first.email_verified_at is not None

    # Now verified: "Recognise me" from any browser leads to the first shopper.
    again = signin.do_request_link(
        session, shopper_actor(typist), team.brand, "camille@example.com", client="b"
    )
    assert again.link.shopper_id == first.id
    assert typist.id != first.id


def test_asking_is_rate_limited_and_checked(team: Team, factory: Factory, session: Session) -> None:
    shopper = shopper_actor(factory.shopper())
    for _ in range(3):
        signin.do_request_link(session, shopper, team.brand, "flood@example.com", client="c")
    with pytest.raises(TooManyRequests):
        signin.do_request_link(session, shopper, team.brand, "flood@example.com", client="c")
    for n in range(7):  # the same client, other addresses, up to its hourly budget
        signin.do_request_link(session, shopper, team.brand, f"x{n}@example.com", client="c")
    with pytest.raises(TooManyRequests):
        signin.do_request_link(session, shopper, team.brand, "new@example.com", client="c")
    with pytest.raises(Forbidden):  # staff have no shopper identity to carry over
        signin.do_request_link(
            session, associate_actor(team.anna), team.brand, "a@example.com", client="d"
        )


def test_the_api_refuses_bad_input_and_staff(
    app: Flask, client: FlaskClient, team: Team, factory: Factory
) -> None:
    url = f"/api/brands/{team.brand.id}/signin-link"
    assert client.post(url, json={"email": "not an address"}).status_code == 422
    assert client.post(url, json={}).status_code == 422
    assert (
        client.post("/api/brands/999999/signin-link", json={"email": "a@b.co"}).status_code == 404
    )
    staff = app.test_client()
    login(staff, factory.user_of(team.anna).email)
    assert staff.post(url, json={"email": "a@example.com"}).status_code == 403


def test_the_outbox_sends_once_and_not_a_spent_link(
    engine: Engine, team: Team, factory: Factory, session: Session, smtp: SmtpServer
) -> None:
    shopper = factory.shopper()
    asked = signin.do_request_link(
        session, shopper_actor(shopper), team.brand, "once@example.com", client="e"
    )
    mailer = Mailer(SmtpSettings(host=smtp.host, port=smtp.port))
    assert signin.run_due(engine, mailer, "http://shop.test", "secret") == 1
    assert signin.run_due(engine, mailer, "http://shop.test", "secret") == 0  # claimed, sent
    assert len(smtp.inbox.wait_for(1)) == 1
    spent = signin.do_request_link(
        session, shopper_actor(shopper), team.brand, "once@example.com", client="e"
    )
    signin.do_use_link(session, shopper_actor(factory.shopper()), spent.link)
    session.commit()
    assert signin.run_due(engine, mailer, "http://shop.test", "secret") == 0  # nothing to say
    assert asked.link.id != spent.link.id
    assert session.exec(select(ThreadMessage)).all() == []  # no thread: no note, no row
    assert session.exec(select(Shopper).where(Shopper.email == "once@example.com")).first()
