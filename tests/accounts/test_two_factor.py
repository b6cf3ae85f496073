"""Two-factor sign-in for brand admins, with real codes computed by pyotp: enrol (a QR code
drawn server-side as SVG), confirm with a code, recovery codes shown once and stored
hashed, sign-in asks for a code after the password, a code works once, wrong codes are
throttled, turning it off takes a code. Associates are not offered it."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.models import RecoveryCode, User
from tests.conftest import login
from tests.factories import Factory


def _kind(client: FlaskClient) -> str:
    return str(client.get("/whoami").get_json()["kind"])


def _secret(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id)
    assert user is not None
    session.refresh(user)  # the app changed it
    secret = user.totp_secret
    session.commit()  # end the read
    assert secret
    return secret


def _enrol(client: FlaskClient, session: Session, user: User) -> tuple[str, list[str]]:
    assert client.post("/account/two-factor/start").status_code == 303
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and b"<svg" in page.data
    svg = page.data[page.data.index(b"<svg") : page.data.index(b"</svg>")]
    assert b"<script" not in svg  # the QR code is drawn, not scripted
    secret = _secret(session, user.id)
    assert secret.encode() in page.data  # the key to type when the camera cannot scan
    wrong = client.post("/account/two-factor/confirm", data={"code": "000000"})
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret).now()
    done = client.post("/account/two-factor/confirm", data={"code": code})
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client: FlaskClient, email: str, next_url: str | None = None) -> None:
    data = {"email": email, "password": Factory.PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/login", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")


def _at(secret: str, seconds: int) -> str:
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=seconds))


def test_enrol_then_sign_in_asks_for_the_code(
    app: Flask, factory: Factory, session: Session
) -> None:
    admin = factory.admin(factory.brand())
    laptop = app.test_client()
    login(laptop, admin.email)
    secret, codes = _enrol(laptop, session, admin)
    stored = session.exec(select(RecoveryCode.code_hash)).all()
    session.commit()
    assert len(stored) == 10 and not any(c in h for c in codes for h in stored)  # hashed
    assert b"Recovery codes left: 10" in laptop.get("/account/two-factor").data

    phone = app.test_client()
    _password_step(phone, admin.email, next_url="/admin/people")
    assert _kind(phone) == "anonymous"  # the password alone signs nobody in
    assert phone.get("/login/code").status_code == 200
    assert phone.post("/login/code", data={"code": "123456"}).status_code == 422
    signed = phone.post("/login/code", data={"code": _at(secret, 30)})  # the next step: drift
    assert signed.status_code == 303 and signed.headers["Location"] == "/admin/people"
    assert _kind(phone) == "brand_admin"

    tablet = app.test_client()
    _password_step(tablet, admin.email)
    used = tablet.post("/login/code", data={"code": _at(secret, 30)})
    assert used.status_code == 422  # that step's code was used already
    by_recovery = tablet.post("/login/code", data={"code": codes[0].upper()})
    assert by_recovery.status_code == 303 and by_recovery.headers["Location"].endswith("/admin/")
    again = app.test_client()
    _password_step(again, admin.email)
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 422  # once
    assert b"Recovery codes left: 9" in laptop.get("/account/two-factor").data


def test_wrong_codes_are_throttled(app: Flask, factory: Factory, session: Session) -> None:
    admin = factory.admin(factory.brand())
    laptop = app.test_client()
    login(laptop, admin.email)
    secret, _ = _enrol(laptop, session, admin)  # one wrong code already counted
    thief = app.test_client()
    _password_step(thief, admin.email)
    answers = [thief.post("/login/code", data={"code": "000001"}).status_code for _ in range(5)]
    assert answers == [422, 422, 422, 422, 429]
    right = thief.post("/login/code", data={"code": _at(secret, 30)})
    assert right.status_code == 429  # even the right code waits
    assert _kind(thief) == "anonymous"


def test_turning_it_off_takes_a_code_and_associates_are_not_offered_it(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    laptop = app.test_client()
    login(laptop, admin.email)
    secret, _ = _enrol(laptop, session, admin)
    assert laptop.post("/account/two-factor/disable", data={"code": "999999"}).status_code == 422
    off = laptop.post("/account/two-factor/disable", data={"code": _at(secret, 30)})
    assert off.status_code == 303
    assert session.exec(select(RecoveryCode)).all() == []
    session.commit()
    login(app.test_client(), admin.email)  # the password alone again

    worker = app.test_client()
    login(worker, factory.user_of(factory.associate(brand)).email)
    assert worker.get("/account/two-factor").status_code == 403
    assert worker.post("/account/two-factor/start").status_code == 403
    assert b"/account/two-factor" not in worker.get("/account/password").data
